import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHINA_BOUNDS } from '../../src/isp-spec/index.js';
import { convertCoordinates } from '../../src/transform/index.js';

describe('coordinates', () => {
  it('leaves out the spec example (34.54563, 54.45563): outside China in either order', () => {
    expect(convertCoordinates(34.54563, 54.45563, 'GCJ02', 'GCJ02')).toEqual({
      ok: true,
      absent: true,
      note: expect.objectContaining({ kind: 'coordinates-out-of-china', field: 'longitude' }),
    });
    expect(convertCoordinates(54.45563, 34.54563, 'GCJ02', 'GCJ02')).toMatchObject({
      ok: true,
      absent: true,
      note: { kind: 'coordinates-out-of-china' },
    });
  });

  it('leaves out a swapped-looking pair unless asked to swap it back, and says so either way', () => {
    const left = convertCoordinates(39.915, 116.404, 'GCJ02', 'GCJ02');
    expect(left).toMatchObject({ ok: true, absent: true, note: { kind: 'coordinates-swapped' } });
    expect(left).not.toHaveProperty('longitude');
    expect((left as { note: { message: string } }).note.message).toContain('fixSwappedCoordinates');
    expect(convertCoordinates(39.915, 116.404, 'GCJ02', 'GCJ02', { fixSwapped: true })).toEqual({
      ok: true,
      longitude: 116.404,
      latitude: 39.915,
      note: expect.objectContaining({ kind: 'coordinates-swapped-back' }),
    });
    // Swapped back, then converted like any pair.
    expect(convertCoordinates(39.915, 116.404, 'BD09', 'GCJ02', { fixSwapped: true })).toMatchObject({
      longitude: 116.397627,
      latitude: 39.908657,
    });
    // Outside China in both orders: no swap makes it right.
    expect(convertCoordinates(200, 39.9, 'GCJ02', 'GCJ02', { fixSwapped: true })).toMatchObject({
      absent: true,
      note: { kind: 'coordinates-out-of-china' },
    });
  });

  it.each([
    [200, 39.9, 'longitude'],
    [116.4, -10, 'latitude'],
    [116.4, 60, 'latitude'],
    [-116.4, 39.9, 'longitude'],
  ])('(%d, %d) is outside China on %s and left out', (lng, lat, field) => {
    expect(convertCoordinates(lng, lat, 'WGS84', 'GCJ02')).toMatchObject({
      ok: true,
      absent: true,
      note: { kind: 'coordinates-out-of-china', field },
    });
  });

  it('rounds to 6 decimals without converting when the systems match', () => {
    expect(convertCoordinates(116.4041234567, 39.9151234567, 'GCJ02', 'GCJ02')).toEqual({
      ok: true,
      longitude: 116.404123,
      latitude: 39.915123,
    });
    expect(convertCoordinates('117.1234565', ' 36.65 ', 'BD09', 'BD09')).toEqual({
      ok: true,
      longitude: 117.123457,
      latitude: 36.65,
    });
  });

  it('converts BD09 and WGS84 to GCJ02 (Tiananmen: known offsets)', () => {
    const fromBd = convertCoordinates(116.404, 39.915, 'BD09', 'GCJ02');
    expect(fromBd).toEqual({ ok: true, longitude: 116.397627, latitude: 39.908657 });
    const fromWgs = convertCoordinates(116.391, 39.907, 'WGS84', 'GCJ02') as {
      longitude: number;
      latitude: number;
    };
    // GCJ02 is shifted ~600 m east and ~150 m north of WGS84 in Beijing.
    expect(fromWgs.longitude - 116.391).toBeGreaterThan(0.005);
    expect(fromWgs.longitude - 116.391).toBeLessThan(0.007);
    expect(fromWgs.latitude - 39.907).toBeGreaterThan(0.001);
    expect(fromWgs.latitude - 39.907).toBeLessThan(0.002);
    const back = convertCoordinates(fromWgs.longitude, fromWgs.latitude, 'GCJ02', 'WGS84') as {
      longitude: number;
    };
    expect(Math.abs(back.longitude - 116.391)).toBeLessThan(1e-5);
  });

  it.each([
    [null, null, { ok: true, absent: true }],
    [undefined, undefined, { ok: true, absent: true }],
    [0, 0, { ok: true, absent: true }],
    ['0.000000', '0.000000', { ok: true, absent: true }],
  ])('(%j, %j) means no coordinates', (lng, lat, expected) => {
    expect(convertCoordinates(lng, lat, 'GCJ02', 'GCJ02')).toEqual(expected);
  });

  it.each([
    [116.4, null, 'missing-field', 'latitude'],
    [null, 39.9, 'missing-field', 'longitude'],
    ['abc', 39.9, 'bad-number', 'longitude'],
    [116.4, 'N39', 'bad-number', 'latitude'],
  ])('(%j, %j) is %s on %s', (lng, lat, code, field) => {
    expect(convertCoordinates(lng, lat, 'GCJ02', 'GCJ02')).toMatchObject({
      ok: false,
      reasons: [{ code, field }],
    });
  });

  it('keeps any pair inside China inside China after conversion, at 6 decimals', () => {
    const systems = ['WGS84', 'GCJ02', 'BD09'] as const;
    fc.assert(
      fc.property(
        fc.double({ min: CHINA_BOUNDS.minLng + 0.1, max: CHINA_BOUNDS.maxLng - 0.1, noNaN: true }),
        fc.double({ min: CHINA_BOUNDS.minLat + 0.1, max: CHINA_BOUNDS.maxLat - 0.1, noNaN: true }),
        fc.constantFrom(...systems),
        fc.constantFrom(...systems),
        (lng, lat, from, to) => {
          const result = convertCoordinates(lng, lat, from, to);
          expect(result.ok).toBe(true);
          const { longitude, latitude } = result as { longitude: number; latitude: number };
          expect(Number(longitude.toFixed(6))).toBe(longitude);
          expect(Number(latitude.toFixed(6))).toBe(latitude);
          expect(Math.abs(longitude - lng)).toBeLessThan(0.02);
          expect(Math.abs(latitude - lat)).toBeLessThan(0.02);
        },
      ),
      { numRuns: 500 },
    );
  });
});
