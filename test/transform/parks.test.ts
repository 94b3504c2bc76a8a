/**
 * Lots with real-world coordinates: a pair outside China or swapped costs the
 * lot its coordinates, never the lot; a warning names the lot; swapping back is opt-in.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { RawPark } from '../../src/config/vendor-rows.js';
import { parkSchema } from '../../src/isp-spec/index.js';
import { transformWarnings } from '../../src/metrics.js';
import { createTransformContext, type TransformContext, transformPark } from '../../src/transform/index.js';

function context(overrides: Record<string, unknown> = {}, counted = false): TransformContext {
  const config = loadConfig({ files: ['config/presets/visit-table.yaml'], env: {}, overrides });
  return createTransformContext(config, counted ? {} : { onWarnings: null });
}

const park = (fields: Partial<RawPark>): RawPark => ({
  vendorKey: 'ATXL/1',
  parkCode: 'ATXL/1',
  parkName: '奥体西路 1 号停车场',
  longitude: '117.123456',
  latitude: '36.654321',
  address: '济南高新区奥体西路停车场',
  ...fields,
});

function sent(result: ReturnType<typeof transformPark>) {
  if (!result.ok) throw new Error(`quarantined: ${JSON.stringify(result.reasons)}`);
  const parsed = parkSchema.safeParse(result.value.park);
  if (!parsed.success) throw new Error(`not a valid ISP park: ${parsed.error.message}`);
  return result.value.park;
}

const fixSwapped = { streams: { parks: { fixSwappedCoordinates: true } } };

describe('parks with coordinates that cannot be right', () => {
  it.each([
    ['the spec example', 34.54563, 54.45563],
    ['the spec example swapped', 54.45563, 34.54563],
    ['a longitude beyond China', 200, 36.65],
    ['a southern latitude', 117.12, -36.65],
    ['a western longitude', -117.12, 36.65],
  ])('%s (%d, %d): sent without longitude/latitude, with a warning naming the lot', (_name, lng, lat) => {
    const result = transformPark(park({ longitude: lng, latitude: lat }), context());
    const lot = sent(result);
    expect(lot).toEqual({
      park_code: 'ATXL/1',
      park_name: '奥体西路 1 号停车场',
      address: '济南高新区奥体西路停车场',
      coordinate_system: 'GCJ02',
    });
    expect(result.warnings).toEqual([
      {
        kind: 'coordinates-out-of-china',
        field: expect.any(String),
        value: `${lng},${lat}`,
        message: expect.stringMatching(/^lot "ATXL\/1": .*outside China.*sent without longitude\/latitude/),
      },
    ]);
  });

  it('swapped (latitude in the longitude column): sent without them by default, with a warning', () => {
    const result = transformPark(park({ longitude: '36.654321', latitude: '117.123456' }), context());
    expect(sent(result)).not.toHaveProperty('longitude');
    expect(sent(result)).not.toHaveProperty('latitude');
    expect(result.warnings).toEqual([
      expect.objectContaining({
        kind: 'coordinates-swapped',
        value: '36.654321,117.123456',
        message: expect.stringMatching(/^lot "ATXL\/1": .*look swapped/),
      }),
    ]);
  });

  it('swapped, opted in: sent swapped back, still with a warning naming the lot', () => {
    const result = transformPark(
      park({ longitude: '36.654321', latitude: '117.123456' }),
      context(fixSwapped),
    );
    expect(sent(result)).toMatchObject({ longitude: 117.123456, latitude: 36.654321 });
    expect(result.warnings).toEqual([
      expect.objectContaining({
        kind: 'coordinates-swapped-back',
        message: expect.stringMatching(/^lot "ATXL\/1": .*swapped back/),
      }),
    ]);
  });

  it('opting in swaps only pairs that are right swapped, and leaves good pairs alone', () => {
    const ctx = context(fixSwapped);
    const outside = transformPark(park({ longitude: 200, latitude: 36.65 }), ctx);
    expect(sent(outside)).not.toHaveProperty('longitude');
    expect(outside.warnings.map((w) => w.kind)).toEqual(['coordinates-out-of-china']);
    const good = transformPark(park({}), ctx);
    expect(sent(good)).toMatchObject({ longitude: 117.123456, latitude: 36.654321 });
    expect(good.warnings).toEqual([]);
  });

  it('a deleted lot is deleted without a coordinate warning', () => {
    const result = transformPark(park({ deleted: 1, longitude: 200, latitude: 36.65 }), context());
    expect(result).toMatchObject({ ok: true, value: { deleted: true } });
    expect(result.warnings).toEqual([]);
  });

  it('counts the warning in metrics by stream and kind', async () => {
    const get = async () =>
      (await transformWarnings.get()).values.find(
        (v) => v.labels.stream === 'parks' && v.labels.kind === 'coordinates-swapped',
      )?.value ?? 0;
    const before = await get();
    transformPark(park({ longitude: 36.65, latitude: 117.12 }), context({}, true));
    expect(await get()).toBe(before + 1);
  });
});
