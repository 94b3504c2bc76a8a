/**
 * Overfull lots: more spaces used than a lot has happens, and is sent with
 * remain 0 and used as read (clamped to total only when configured), with a warning, never
 * quarantined.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { RawSpotNum } from '../../src/config/vendor-rows.js';
import { spotNumSchema } from '../../src/isp-spec/index.js';
import { transformWarnings } from '../../src/metrics.js';
import {
  createTransformContext,
  type TransformContext,
  transformSpotNum,
} from '../../src/transform/index.js';

function context(clampOverfull?: boolean, counted = false): TransformContext {
  const overrides = clampOverfull === undefined ? {} : { streams: { spotNums: { clampOverfull } } };
  const config = loadConfig({ files: ['config/presets/visit-table.yaml'], env: {}, overrides });
  return createTransformContext(config, counted ? {} : { onWarnings: null });
}

const spot = (fields: Partial<RawSpotNum>): RawSpotNum => ({
  vendorKey: 'ATXL/1',
  parkCode: 'ATXL/1',
  ...fields,
});

describe('overfull lots', () => {
  it.each([
    ['used above total', { total: 100, used: 112 }],
    ['used above total, remain 0', { total: 100, used: 112, remain: 0 }],
    ['used above total, remain negative to match', { total: 100, used: 112, remain: -12 }],
    ['a negative remain alone', { total: 100, remain: -12 }],
    ['as DECIMAL text', { total: '100', used: '112' }],
  ])('%s: sent with remain 0 and used as read, with a warning naming the lot', (_name, fields) => {
    const result = transformSpotNum(spot(fields), context());
    expect(result).toEqual({
      ok: true,
      value: { park_code: 'ATXL/1', total_spots_num: 100, remain_spots_num: 0, used_spots_num: 112 },
      warnings: [
        {
          kind: 'overfull-lot',
          field: 'used',
          value: expect.stringContaining('total 100'),
          message: expect.stringMatching(/^lot "ATXL\/1" is overfull: 112 spaces used of 100; .*used 112$/),
        },
      ],
    });
    // What ISP is sent passes the spec schema the simulator checks with.
    expect(spotNumSchema.safeParse((result as { value: object }).value).success).toBe(true);
  });

  it('with clampOverfull: used is sent as total, still with the warning', () => {
    const result = transformSpotNum(spot({ total: 100, used: 112 }), context(true));
    expect(result).toMatchObject({
      ok: true,
      value: { total_spots_num: 100, remain_spots_num: 0, used_spots_num: 100 },
      warnings: [{ kind: 'overfull-lot', message: expect.stringContaining('clampOverfull') }],
    });
    expect(spotNumSchema.safeParse((result as { value: object }).value).success).toBe(true);
  });

  it('a full lot is not overfull, and clamping leaves ordinary counts alone', () => {
    expect(transformSpotNum(spot({ total: 100, used: 100 }), context())).toMatchObject({
      ok: true,
      value: { remain_spots_num: 0, used_spots_num: 100 },
      warnings: [],
    });
    expect(transformSpotNum(spot({ total: 100, used: 40 }), context(true))).toMatchObject({
      ok: true,
      value: { remain_spots_num: 60, used_spots_num: 40 },
      warnings: [],
    });
  });

  it.each([
    ['used and remain disagree', { total: 100, used: 112, remain: 3 }, 'used + remain != total'],
    ['more free than exist', { total: 100, remain: 101 }, 'more spaces free than exist'],
    ['a negative used count', { total: 100, used: -1 }, 'negative space count'],
    ['a negative total', { total: -1, used: 0 }, 'negative space count'],
  ])('%s is still quarantined', (_name, fields, message) => {
    expect(transformSpotNum(spot(fields), context())).toMatchObject({
      ok: false,
      reasons: [{ code: 'bad-spot-count', message: expect.stringContaining(message) }],
    });
  });

  it('counts the warning in metrics by stream and kind', async () => {
    const get = async () =>
      (await transformWarnings.get()).values.find(
        (v) => v.labels.stream === 'spotNums' && v.labels.kind === 'overfull-lot',
      )?.value ?? 0;
    const before = await get();
    transformSpotNum(spot({ total: 10, used: 11 }), context(undefined, true));
    expect(await get()).toBe(before + 1);
  });
});
