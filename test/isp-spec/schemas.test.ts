/**
 * The spec schemas against the original document's examples (isp-parking-interface.original.zh.txt),
 * as corrected per ISP-INTERFACE.md open point 4, and against each kind of invalid field.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  CAR_TYPES,
  commonResponseSchema,
  departureKey,
  departureSchema,
  departuresBodySchema,
  describeIssues,
  entranceKey,
  entranceSchema,
  entrancesBodySchema,
  PAY_TYPES,
  PHOTO_MAX_BYTES,
  PHOTO_PREFIX,
  parkDeletionSchema,
  parkSchema,
  parksBodySchema,
  spotNumSchema,
  spotNumsBodySchema,
  tokenResponseSchema,
} from '../../src/isp-spec/index.js';

// §3, corrected: clean keys, the required coordinate_system, and coordinates inside China (the
// example's 34.54563/54.45563 lie outside China in either order; these are Jinan's Olympic West Road).
const park = {
  park_code: 'ATXL/1',
  park_name: '奥体西路 1 号停车场',
  longitude: 117.12563,
  latitude: 36.65563,
  address: '济南高新区奥体西路停车场',
  coordinate_system: 'GCJ02',
};
const parkDeletion = { park_code: 'ATXL/1,ATXL/2' };
const spotNum = { park_code: 'ATXL/1', total_spots_num: 1000, remain_spots_num: 350, used_spots_num: 650 };
// §6, corrected: clean keys and values, normalized plate, the code instead of the label.
const entrance = {
  park_code: 'ATXL/1',
  plate_number: '鲁A12345',
  car_type: '2',
  car_logo: '大众',
  enter_pic: `${PHOTO_PREFIX}/9j/4AAQSkZJRgABAQ`,
  enter_time: 1588061331,
};
// §7, corrected: as §6, and pay_type quoted.
const departure = {
  park_code: 'ATXL/1',
  plate_number: '鲁A12345',
  car_type: '2',
  car_logo: '大众',
  depart_pic: `${PHOTO_PREFIX}/9j/4AAQSkZJRgABAQ`,
  depart_time: 1588061331,
  use_time: 59,
  payable_fee: 34.5,
  paid_fee: 34.5,
  pay_time: 1588061329,
  pay_type: '4',
};

function problems(schema: z.ZodType, value: unknown): string {
  const result = schema.safeParse(value);
  return result.success ? '' : describeIssues(result.error);
}

describe('spec schemas accept the (corrected) examples', () => {
  it.each([
    ['park', parksBodySchema, [park]],
    ['park without optional fields', parksBodySchema, [{ park_code: 'ATXL/2', coordinate_system: 'WGS84' }]],
    ['park deletion', parkDeletionSchema, parkDeletion],
    ['park deletion, one code', parkDeletionSchema, { park_code: 'ATXL/1' }],
    ['spot-num', spotNumsBodySchema, [spotNum]],
    ['entrance', entrancesBodySchema, [entrance]],
    ['entrance with the label as in the example', entrancesBodySchema, [{ ...entrance, car_type: '小型车' }]],
    ['entrance without photo (open point 6)', entrancesBodySchema, [{ ...entrance, enter_pic: '' }]],
    ['departure', departuresBodySchema, [departure]],
    [
      'departure with the label as in the example',
      departuresBodySchema,
      [{ ...departure, pay_type: '支付宝' }],
    ],
    ['departure, nothing paid', departuresBodySchema, [{ ...departure, paid_fee: 0, payable_fee: 0 }]],
  ])('%s', (_name, schema, value) => {
    expect(problems(schema, value)).toBe('');
  });

  it('every code and every label of the code tables', () => {
    for (const [code, label] of Object.entries(CAR_TYPES)) {
      expect(problems(entranceSchema, { ...entrance, car_type: code })).toBe('');
      expect(problems(entranceSchema, { ...entrance, car_type: label })).toBe('');
    }
    for (const [code, label] of Object.entries(PAY_TYPES)) {
      expect(problems(departureSchema, { ...departure, pay_type: code })).toBe('');
      expect(problems(departureSchema, { ...departure, pay_type: label })).toBe('');
    }
  });

  it('the labels are the original document’s words', () => {
    expect(Object.values(CAR_TYPES)).toEqual([
      '大型车',
      '小型车',
      '警用车',
      '临时车',
      '无号牌车',
      '新能源汽车',
    ]);
    expect(Object.values(PAY_TYPES)).toEqual(['现金', 'ETC', '微信', '支付宝', '信用卡', '储值卡', '月租卡']);
  });

  it('a photo of exactly the limit, prefix included', () => {
    const pic = PHOTO_PREFIX + 'A'.repeat(PHOTO_MAX_BYTES - PHOTO_PREFIX.length);
    expect(problems(entranceSchema, { ...entrance, enter_pic: pic })).toBe('');
  });

  it('the token answer of §1: expires_in as a string, access_token or token', () => {
    const answer = {
      access_token:
        'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE1NzEyNDEwMTN9.N_VbIDvSm_S39yEgz_CgPPVu4Qb_95ecqSQ9tkBh6S0',
      token_type: 'bearer',
      expires_in: '34258',
      scope: 'all',
      token: '5f1uONTWY90mZwyvlxGZTg==',
    };
    expect(tokenResponseSchema.parse(answer)).toEqual({
      accessToken: answer.access_token,
      tokenType: 'bearer',
      expiresInSeconds: 34258,
    });
    expect(tokenResponseSchema.parse({ token: 'abc', expires_in: 60 }).accessToken).toBe('abc');
  });

  it('the common answers of §2-§7: code 0 or 200, msg or message', () => {
    expect(commonResponseSchema.parse({ code: 0, msg: 'success' })).toEqual({ code: 0, message: 'success' });
    expect(commonResponseSchema.parse({ code: 200, msg: 'success' })).toEqual({
      code: 200,
      message: 'success',
    });
    expect(commonResponseSchema.parse({ code: 1, message: 'bad' })).toEqual({ code: 1, message: 'bad' });
    expect(commonResponseSchema.parse({ code: '401' })).toEqual({ code: 401, message: '' });
  });

  it('natural keys of events (open point 10)', () => {
    expect(entranceKey(entrance)).toBe('ATXL/1|鲁A12345|1588061331');
    expect(departureKey(departure)).toBe('ATXL/1|鲁A12345|1588061331');
  });
});

describe('spec schemas reject the uncorrected examples', () => {
  it.each([
    ['key with a trailing space', parkSchema, { ...park, 'park_code ': 'ATXL/1' }, 'unrecognized key', ''],
    [
      'value with a leading space',
      entranceSchema,
      { ...entrance, park_code: ' ATXL/1' },
      'leading or trailing',
      'park_code',
    ],
    [
      'plate with a space',
      entranceSchema,
      { ...entrance, plate_number: '鲁 A12345' },
      'contains a space',
      'plate_number',
    ],
    [
      'photo with a leading space',
      entranceSchema,
      { ...entrance, enter_pic: ' data:image/jpg;base64,/9j/4A' },
      'Base64',
      'enter_pic',
    ],
    [
      'coordinates of §3',
      parkSchema,
      { ...park, longitude: 34.54563, latitude: 54.45563 },
      'outside China',
      'longitude',
    ],
    [
      'coordinates of §3 swapped',
      parkSchema,
      { ...park, longitude: 54.45563, latitude: 34.54563 },
      'outside China',
      'longitude',
    ],
    [
      'park without coordinate_system (as in §3)',
      parkSchema,
      { park_code: 'ATXL/1' },
      '',
      'coordinate_system',
    ],
  ])('%s', (_name, schema, value, message, field) => {
    const text = problems(schema, value);
    expect(text).not.toBe('');
    expect(text.toLowerCase()).toContain(message.toLowerCase());
    if (field) expect(text).toContain(field);
  });
});

type Row = [string, z.ZodType, Record<string, unknown>, string, string];
const omit = (value: Record<string, unknown>, key: string) => {
  const copy = { ...value };
  delete copy[key];
  return copy;
};
const bigPhoto = PHOTO_PREFIX + 'A'.repeat(PHOTO_MAX_BYTES - PHOTO_PREFIX.length + 4);

describe('spec schemas reject each kind of invalid field', () => {
  const rows: Row[] = [
    // wrong type
    [
      'entrance: enter_time as a string',
      entranceSchema,
      { ...entrance, enter_time: '1588061331' },
      'enter_time',
      '',
    ],
    ['entrance: car_type as a number', entranceSchema, { ...entrance, car_type: 2 }, 'car_type', ''],
    [
      'spot-num: count as a string',
      spotNumSchema,
      { ...spotNum, total_spots_num: '1000' },
      'total_spots_num',
      '',
    ],
    ['park: longitude as a string', parkSchema, { ...park, longitude: '117.1' }, 'longitude', ''],
    ['departure: fee as a string', departureSchema, { ...departure, paid_fee: '34.5' }, 'paid_fee', ''],
    ['deletion: codes as an array', parkDeletionSchema, { park_code: ['A', 'B'] }, 'park_code', ''],
    // missing required field
    ['entrance: no plate_number', entranceSchema, omit(entrance, 'plate_number'), 'plate_number', ''],
    ['entrance: no enter_pic', entranceSchema, omit(entrance, 'enter_pic'), 'enter_pic', ''],
    ['departure: no pay_time', departureSchema, omit(departure, 'pay_time'), 'pay_time', ''],
    ['departure: no use_time', departureSchema, omit(departure, 'use_time'), 'use_time', ''],
    ['spot-num: no used_spots_num', spotNumSchema, omit(spotNum, 'used_spots_num'), 'used_spots_num', ''],
    ['park: no park_code', parkSchema, omit(park, 'park_code'), 'park_code', ''],
    ['deletion: no park_code', parkDeletionSchema, {}, 'park_code', ''],
    // empty text
    ['entrance: empty park_code', entranceSchema, { ...entrance, park_code: '' }, 'park_code', 'empty'],
    ['deletion: empty code in the list', parkDeletionSchema, { park_code: 'A,,B' }, 'park_code', 'joined by'],
    // photo over 512 KB, photo not Base64
    [
      'entrance: photo over the limit',
      entranceSchema,
      { ...entrance, enter_pic: bigPhoto },
      'enter_pic',
      'over the limit',
    ],
    [
      'departure: photo over the limit',
      departureSchema,
      { ...departure, depart_pic: bigPhoto },
      'depart_pic',
      'over the limit',
    ],
    [
      'entrance: photo not Base64',
      entranceSchema,
      { ...entrance, enter_pic: 'data:image/jpg;base64,###' },
      'enter_pic',
      'Base64',
    ],
    // unknown code
    ['entrance: car_type 9', entranceSchema, { ...entrance, car_type: '9' }, 'car_type', 'car type code'],
    [
      'entrance: unknown car_type label',
      entranceSchema,
      { ...entrance, car_type: '飞机' },
      'car_type',
      'car type code',
    ],
    ['departure: pay_type 8', departureSchema, { ...departure, pay_type: '8' }, 'pay_type', 'pay type code'],
    [
      'park: coordinate system',
      parkSchema,
      { ...park, coordinate_system: 'WGS-84' },
      'coordinate_system',
      '',
    ],
    // timestamp in ms instead of s, implausible, fractional
    [
      'entrance: enter_time in ms',
      entranceSchema,
      { ...entrance, enter_time: 1588061331000 },
      'enter_time',
      'milliseconds',
    ],
    [
      'departure: depart_time in ms',
      departureSchema,
      { ...departure, depart_time: 1588061331000 },
      'depart_time',
      'milliseconds',
    ],
    [
      'departure: pay_time in ms',
      departureSchema,
      { ...departure, pay_time: 1588061329000 },
      'pay_time',
      'milliseconds',
    ],
    [
      'entrance: enter_time before 2000',
      entranceSchema,
      { ...entrance, enter_time: 86400 },
      'enter_time',
      '2000',
    ],
    [
      'entrance: fractional seconds',
      entranceSchema,
      { ...entrance, enter_time: 1588061331.5 },
      'enter_time',
      'whole',
    ],
    // coordinates outside China, one without the other
    ['park: longitude outside China', parkSchema, { ...park, longitude: 140 }, 'longitude', 'outside China'],
    ['park: latitude outside China', parkSchema, { ...park, latitude: 60 }, 'latitude', 'outside China'],
    ['park: longitude without latitude', parkSchema, omit(park, 'latitude'), 'longitude', 'together'],
    // unknown key
    ['entrance: unknown key', entranceSchema, { ...entrance, 'park_code ': 'ATXL/1' }, '', 'park_code '],
    ['departure: unknown key', departureSchema, { ...departure, fee: 1 }, '', 'fee'],
    ['spot-num: unknown key', spotNumSchema, { ...spotNum, free: 1 }, '', 'free'],
    ['deletion: unknown key', parkDeletionSchema, { park_code: 'A', park_codes: 'B' }, '', 'park_codes'],
    // numbers out of range
    [
      'spot-num: negative count',
      spotNumSchema,
      { ...spotNum, remain_spots_num: -1, used_spots_num: 1001 },
      'remain_spots_num',
      '',
    ],
    [
      'spot-num: counts do not add up',
      spotNumSchema,
      { ...spotNum, used_spots_num: 600 },
      'total_spots_num',
      'must equal',
    ],
    ['departure: negative fee', departureSchema, { ...departure, paid_fee: -1 }, 'paid_fee', 'negative'],
    [
      'departure: fee with 3 decimals',
      departureSchema,
      { ...departure, payable_fee: 34.505 },
      'payable_fee',
      'decimals',
    ],
    ['departure: fractional use_time', departureSchema, { ...departure, use_time: 59.5 }, 'use_time', ''],
  ];
  it.each(rows)('%s', (_name, schema, value, field, message) => {
    const text = problems(schema, value);
    expect(text).not.toBe('');
    if (field) expect(text).toContain(field);
    if (message) expect(text).toContain(message);
  });

  it('answers that are not tokens', () => {
    expect(tokenResponseSchema.safeParse({ token_type: 'bearer', expires_in: '60' }).success).toBe(false);
    expect(tokenResponseSchema.safeParse({ access_token: 'a', expires_in: 'soon' }).success).toBe(false);
    expect(tokenResponseSchema.safeParse({ access_token: 'a' }).success).toBe(false);
    expect(commonResponseSchema.safeParse({ msg: 'success' }).success).toBe(false);
  });

  it('empty bodies', () => {
    for (const schema of [parksBodySchema, spotNumsBodySchema, entrancesBodySchema, departuresBodySchema]) {
      expect(schema.safeParse([]).success).toBe(false);
    }
  });
});
