import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../src/cli/args.js';
import { CHINA_BOUNDS } from '../../../src/isp-spec/index.js';
import {
  createRandom,
  DEMO_LOT_PREFIX,
  demoLotCode,
  feeFen,
  isDemoLotOf,
  makeEntryTimes,
  makeKind,
  makeLots,
  makePlate,
  toBd09,
  wallClock,
} from '../../../src/sim/demo-vendor/data.js';
import { classifyPlate } from '../../../src/transform/plates.js';

describe('demo data', () => {
  it('makes plates a plate reader accepts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 }), (seed) => {
        const rnd = createRandom(seed);
        const kind = makeKind(rnd);
        const plate = makePlate(kind, rnd);
        if (kind === 'noPlate') return plate === '无牌车';
        if (kind === 'newEnergy') expect(plate).toMatch(/^[\u4e00-\u9fa5][A-Z][DF][0-9A-Z]\d{4}$/);
        else if (kind === 'police') expect(plate).toMatch(/^[\u4e00-\u9fa5][A-Z]\d{4}警$/);
        else expect(plate).toMatch(/^[\u4e00-\u9fa5][A-Z][0-9A-Z]{5}$/);
        expect(classifyPlate(plate)).not.toBe('invalid');
        return true;
      }),
    );
  });

  it('is reproducible per seed', () => {
    expect(makeLots(5, createRandom(7))).toEqual(makeLots(5, createRandom(7)));
    expect(makeLots(5, createRandom(7))).not.toEqual(makeLots(5, createRandom(8)));
  });

  it('makes lots with spec-style codes inside China, also in BD-09', () => {
    const lots = makeLots(40, createRandom(3));
    expect(lots[0]!.code).toBe('ATXL/1');
    expect(new Set(lots.map((l) => l.code)).size).toBe(40);
    for (const lot of lots) {
      const [lng, lat] = toBd09(lot.lng, lot.lat);
      for (const [x, y] of [
        [lot.lng, lot.lat],
        [lng, lat],
      ] as const) {
        expect(x).toBeGreaterThan(CHINA_BOUNDS.minLng);
        expect(x).toBeLessThan(CHINA_BOUNDS.maxLng);
        expect(y).toBeGreaterThan(CHINA_BOUNDS.minLat);
        expect(y).toBeLessThan(CHINA_BOUNDS.maxLat);
      }
      expect(lot.total).toBeGreaterThan(0);
    }
  });

  it('codes lots under another prefix on request, the rest of each lot unchanged', () => {
    const plain = makeLots(12, createRandom(3));
    const other = makeLots(12, createRandom(3), 'BTXL');
    expect(plain.map((l) => l.code)).toEqual(
      Array.from({ length: 12 }, (_, i) => `${DEMO_LOT_PREFIX}/${i + 1}`),
    );
    expect(other.map((l) => l.code)).toEqual(Array.from({ length: 12 }, (_, i) => `BTXL/${i + 1}`));
    expect(other.map(({ code: _, ...rest }) => rest)).toEqual(plain.map(({ code: _, ...rest }) => rest));
  });

  it('refuses a lot prefix that would make a bad park code', () => {
    for (const prefix of ['', 'A,B', 'A B', 'A/B', ' ATXL', 'X'.repeat(25)]) {
      expect(() => demoLotCode(1, prefix), JSON.stringify(prefix)).toThrow(/demo lot prefix/);
      expect(() => makeLots(1, createRandom(1), prefix)).toThrow(/demo lot prefix/);
    }
    expect(demoLotCode(7, 'src-2_B')).toBe('src-2_B/7');
  });

  it('tells a prefix’s lots from a longer prefix’s', () => {
    expect(isDemoLotOf('ATXL/3')).toBe(true);
    expect(isDemoLotOf('ATXL2/3')).toBe(false);
    expect(isDemoLotOf('ATXL2/3', 'ATXL2')).toBe(true);
    expect(isDemoLotOf('ATXL/3', 'ATXL2')).toBe(false);
    expect(isDemoLotOf('ATXL/', 'ATXL')).toBe(false);
    expect(isDemoLotOf('ATXL/3x', 'ATXL')).toBe(false);
  });

  it('charges like a Jinan car park', () => {
    expect(feeFen('small', 'wechat', 29 * 60)).toBe(0);
    expect(feeFen('small', 'wechat', 31 * 60)).toBe(200);
    expect(feeFen('small', 'wechat', 3 * 3600 + 1)).toBe(800);
    expect(feeFen('large', 'cash', 2 * 3600)).toBe(800);
    expect(feeFen('small', 'monthly', 5 * 3600)).toBe(0);
    expect(feeFen('small', 'alipay', 30 * 3600)).toBe(3000 + 6 * 200);
  });

  it('writes wall-clock times in the vendor zone, whatever the process zone', () => {
    expect(wallClock('Asia/Shanghai')(1772323200)).toBe('2026-03-01 08:00:00');
    expect(wallClock('UTC')(1772323200)).toBe('2026-03-01 00:00:00');
    expect(wallClock('America/New_York')(1772323200)).toBe('2026-02-28 19:00:00');
  });

  it('spreads entry times over the range, sorted', () => {
    const times = makeEntryTimes(1000, 1_000_000, 2_000_000, 'Asia/Shanghai', createRandom(1));
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
    expect(times[0]!).toBeGreaterThanOrEqual(1_000_000);
    expect(times[999]!).toBeLessThan(2_000_000);
  });

  it('parses CLI durations', () => {
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1500ms')).toBe(1500);
    expect(() => parseDuration('soon')).toThrow(/duration/);
  });
});
