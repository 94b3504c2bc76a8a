import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import {
  CHINA_BOUNDS,
  departureSchema,
  describeIssues,
  entranceSchema,
  parkSchema,
  spotNumSchema,
} from '../../src/isp-spec/index.js';
import {
  createTransformContext,
  transformDeparture,
  transformEntrance,
  transformPark,
  transformSpotNum,
} from '../../src/transform/index.js';

const NOW = Date.UTC(2024, 5, 1, 4, 0, 0);
const PROVINCES = [...'京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼'];
const LETTERS = [...'ABCDEFGHJKLMNPQRSTUVWXYZ'];
const SERIAL = [...'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'];

const configs = [
  loadConfig({ files: ['config/presets/visit-table.yaml'], env: {} }),
  loadConfig({
    files: ['config/presets/entry-exit.yaml'],
    env: {},
    overrides: { isp: { codesAs: 'label' } },
  }),
  loadConfig({
    files: ['config/presets/visit-table.yaml'],
    env: {},
    overrides: { vendor: { timeZone: 'America/New_York' }, transform: { useTimeRounding: 'round' } },
  }),
];
const contexts = configs.map((c) => createTransformContext(c, { now: () => NOW, onWarnings: null }));

/** A plate as vendors write it: any valid format, sometimes with spaces, dots, lower case, or no plate. */
const plate = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(...PROVINCES),
      fc.constantFrom(...LETTERS),
      fc.array(fc.constantFrom(...SERIAL), { minLength: 5, maxLength: 5 }),
    )
    .map(([p, l, s]) => `${p}${l}${s.join('')}`),
  fc
    .tuple(
      fc.constantFrom(...PROVINCES),
      fc.constantFrom(...LETTERS),
      fc.constantFrom('D', 'F'),
      fc.nat(99999),
    )
    .map(([p, l, e, n]) => `${p}${l}${e}${String(n).padStart(5, '0')}`),
  fc
    .tuple(
      fc.constantFrom(...PROVINCES),
      fc.constantFrom(...LETTERS),
      fc.nat(9999),
      fc.constantFrom('警', '挂', '学'),
    )
    .map(([p, l, n, s]) => `${p}${l}${String(n).padStart(4, '0')}${s}`),
  fc.constantFrom('无牌车', '_无_', '未知', '', ' 鲁 a·12345 ', '粤Z1234港', '使014578'),
  fc.string({ maxLength: 10 }),
  fc.constant(null),
);

/** A local time between 2001 and four days before NOW (departures add up to three), as vendor text. */
const localTime = fc
  .integer({ min: 978_307_200, max: NOW / 1000 - 4 * 86_400 })
  .map((s) => DateTime.fromSeconds(s, { zone: 'UTC' }).toFormat('yyyy-MM-dd HH:mm:ss'));

const vendorWord = fc.oneof(
  fc.constantFrom('小型车', '大车', '新能源', '微信', '支付宝扫码', '月卡', '现金', 2, 7),
  fc.string({ maxLength: 8 }),
  fc.constant(null),
);

const parkCode = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== '');

describe('any valid vendor row yields a payload that passes the spec schema', () => {
  it('entrances', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...contexts),
        parkCode,
        plate,
        localTime,
        vendorWord,
        fc.option(fc.string({ maxLength: 10 })),
        (ctx, code, plateNumber, enterTime, carType, carLogo) => {
          const result = transformEntrance(
            {
              vendorKey: '1',
              cursorTime: enterTime,
              parkCode: code,
              plateNumber,
              enterTime,
              carType,
              carLogo,
            },
            ctx,
          );
          if (!result.ok) throw new Error(`quarantined: ${JSON.stringify(result.reasons)}`);
          const parsed = entranceSchema.safeParse({ ...result.value, enter_pic: '' });
          if (!parsed.success) throw new Error(describeIssues(parsed.error));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('departures', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...contexts),
        parkCode,
        plate,
        localTime,
        fc.integer({ min: 0, max: 3 * 86_400 }),
        fc.option(fc.integer({ min: 0, max: 10_000 })),
        fc.oneof(
          fc.nat(1_000_000),
          fc.nat(1_000_000).map((f) => (f / 100).toFixed(2)),
          fc.constant(null),
        ),
        fc.oneof(
          fc.nat(1_000_000),
          fc.nat(100_000).map((f) => (f / 100).toFixed(1)),
          fc.constant(null),
        ),
        fc.option(fc.integer({ min: -600, max: 600 })),
        vendorWord,
        vendorWord,
        (
          ctx,
          code,
          plateNumber,
          enterTime,
          parked,
          useTime,
          payableFee,
          paidFee,
          payOffset,
          carType,
          payType,
        ) => {
          const enter = DateTime.fromFormat(enterTime, 'yyyy-MM-dd HH:mm:ss', { zone: 'UTC' });
          const departTime = enter.plus({ seconds: parked }).toFormat('yyyy-MM-dd HH:mm:ss');
          const payTime =
            payOffset === null
              ? null
              : enter.plus({ seconds: Math.max(0, parked + payOffset) }).toFormat('yyyy-MM-dd HH:mm:ss');
          const result = transformDeparture(
            {
              vendorKey: '1',
              cursorTime: departTime,
              parkCode: code,
              plateNumber,
              enterTime,
              departTime,
              carType,
              useTime,
              payableFee,
              paidFee,
              payTime,
              payType,
            },
            ctx,
          );
          // A repeated DST hour may read the departure before the entrance: that is a reason, not a bug.
          if (!result.ok) {
            expect(result.reasons.map((r) => r.code)).toEqual(['depart-before-enter']);
            expect(ctx.config.vendor.timeZone).toBe('America/New_York');
            return;
          }
          const parsed = departureSchema.safeParse({ ...result.value, depart_pic: '' });
          if (!parsed.success) throw new Error(describeIssues(parsed.error));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('spot counts', () => {
    fc.assert(
      fc.property(
        parkCode,
        fc.nat(100_000).chain((total) => fc.tuple(fc.constant(total), fc.nat(total))),
        fc.constantFrom('used', 'remain', 'both'),
        fc.boolean(),
        (code, [total, n], given, asText) => {
          const v = (x: number) => (asText ? String(x) : x);
          const row = {
            vendorKey: code,
            parkCode: code,
            total: v(total),
            ...(given !== 'remain' ? { used: v(n) } : {}),
            ...(given === 'remain' ? { remain: v(n) } : {}),
            ...(given === 'both' ? { remain: v(total - n) } : {}),
          };
          const result = transformSpotNum(row, contexts[0]!);
          if (!result.ok) throw new Error(JSON.stringify(result.reasons));
          expect(spotNumSchema.safeParse(result.value).success).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('parks', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...contexts),
        parkCode,
        fc.option(fc.string({ maxLength: 30 })),
        fc.option(
          fc.tuple(
            fc.double({ min: CHINA_BOUNDS.minLng + 0.1, max: CHINA_BOUNDS.maxLng - 0.1, noNaN: true }),
            fc.double({ min: CHINA_BOUNDS.minLat + 0.1, max: CHINA_BOUNDS.maxLat - 0.1, noNaN: true }),
          ),
        ),
        fc.boolean(),
        (ctx, code, name, coordinates, asText) => {
          const [lng, lat] = coordinates ?? [null, null];
          const text = (x: number | null) => (x === null || !asText ? x : x.toFixed(8));
          const result = transformPark(
            {
              vendorKey: code,
              parkCode: code,
              parkName: name,
              address: name,
              longitude: text(lng),
              latitude: text(lat),
            },
            ctx,
          );
          if (!result.ok) throw new Error(JSON.stringify(result.reasons));
          const parsed = parkSchema.safeParse(result.value.park);
          if (!parsed.success) throw new Error(describeIssues(parsed.error));
          expect(result.value.park.coordinate_system).toBe(ctx.config.isp.coordinateSystem);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
