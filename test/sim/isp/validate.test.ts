import { describe, expect, it } from 'vitest';
import { PHOTO_MAX_BYTES } from '../../../src/isp-spec/index.js';
import { validateBody } from '../../../src/sim/isp/index.js';

const entrance = {
  park_code: 'ATXL/1',
  plate_number: '鲁A12345',
  enter_time: 1588061331,
  car_type: '2',
  car_logo: '大众',
  enter_pic: 'data:image/jpg;base64,/9j/4AAQSkZJRgABAQ',
};

function message(kind: Parameters<typeof validateBody>[0], body: unknown): string {
  const result = validateBody(kind, body);
  if (result.ok) throw new Error('expected a refusal');
  return result.message;
}

describe('simulator validation messages name the record index and field', () => {
  it.each([
    ['wrong type', { enter_time: '1588061331' }, '[2].enter_time: must be a number, got string "1588061331"'],
    ['missing field', { car_logo: undefined }, '[2].car_logo: is required'],
    [
      'photo over 512 KB',
      { enter_pic: 'A'.repeat(PHOTO_MAX_BYTES + 4) },
      '[2].enter_pic: is 524292 bytes, over the limit',
    ],
    ['unknown code', { car_type: '9' }, '[2].car_type: is not a car type code 1-6'],
    ['timestamp in ms', { enter_time: 1588061331000 }, '[2].enter_time: looks like milliseconds'],
    ['unknown key', { 'park_code ': 'ATXL/1' }, '[2]: unknown key "park_code "'],
  ])('%s', (_name, change, expected) => {
    const bad = { ...entrance, ...change };
    expect(message('entrance', [entrance, entrance, bad])).toContain(expected);
  });

  it('coordinates outside China and enum values', () => {
    const park = { park_code: 'A', longitude: 34.5, latitude: 54.4, coordinate_system: 'WGS-84' };
    const text = message('park', [park]);
    expect(text).toContain('[0].longitude: is outside China');
    expect(text).toContain('[0].latitude: is outside China');
    expect(text).toContain('[0].coordinate_system: must be one of "WGS84", "GCJ02", "BD09"');
  });

  it('bodies of the wrong shape', () => {
    expect(message('entrance', { ...entrance })).toBe(
      'body must be a JSON array of entrance records, got an object',
    );
    expect(message('entrance', [])).toBe('body must hold at least one record');
    expect(message('park-deletion', [{ park_code: 'A' }])).toContain('must be an object');
    expect(message('park-deletion', { park_code: 'A,,B' })).toContain('park_code:');
  });

  it('lists at most ten problems and counts the rest', () => {
    const text = message(
      'entrance',
      Array.from({ length: 15 }, () => ({ ...entrance, car_type: '9' })),
    );
    expect(text.split('; ')).toHaveLength(11);
    expect(text).toMatch(/and 5 more problems$/);
  });

  it('splits a deletion into one record per code', () => {
    expect(validateBody('park-deletion', { park_code: 'A,B' })).toEqual({
      ok: true,
      records: [{ park_code: 'A' }, { park_code: 'B' }],
    });
  });
});
