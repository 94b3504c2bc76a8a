import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { RawDeparture, RawEntrance, RawPark, RawSpotNum } from '../../src/config/vendor-rows.js';
import {
  CAR_TYPES,
  departureSchema,
  entranceSchema,
  parkSchema,
  spotNumSchema,
} from '../../src/isp-spec/index.js';
import { transformWarnings } from '../../src/metrics.js';
import {
  createTransformContext,
  minutesFrom,
  transformDeparture,
  transformEntrance,
  transformPark,
  transformSpotNum,
} from '../../src/transform/index.js';

/** 2024-06-01 12:00:00 in Shanghai. */
const NOW = Date.UTC(2024, 5, 1, 4, 0, 0);

function context(overrides: Record<string, unknown> = {}, files = ['config/presets/visit-table.yaml']) {
  return createTransformContext(loadConfig({ files, env: {}, overrides }), {
    now: () => NOW,
    onWarnings: null,
  });
}

function entrance(fields: Partial<RawEntrance>): RawEntrance {
  return {
    vendorKey: '1',
    cursorTime: '2024-05-31 08:00:00',
    parkCode: 'P1',
    plateNumber: '鲁A12345',
    enterTime: '2024-05-31 08:00:00',
    carType: '小型车',
    carLogo: '大众',
    ...fields,
  };
}

function departure(fields: Partial<RawDeparture>): RawDeparture {
  return {
    vendorKey: '1',
    cursorTime: '2024-05-31 09:00:00',
    parkCode: 'P1',
    plateNumber: '鲁A12345',
    enterTime: '2024-05-31 08:00:00',
    departTime: '2024-05-31 09:00:00',
    carType: '小型车',
    carLogo: '大众',
    payableFee: 500,
    paidFee: 500,
    payTime: '2024-05-31 08:59:00',
    payType: '微信',
    ...fields,
  };
}

function codes(result: { ok: boolean; reasons?: { code: string }[] }): string[] {
  return result.ok ? [] : (result.reasons ?? []).map((r) => r.code);
}

describe('entrances', () => {
  const ctx = context();

  it('turns the spec example into exactly the corrected payload', () => {
    // The spec sends `"park_code ":" ATXL/1"`, `"鲁 A12345"` and the label "小型车".
    const result = transformEntrance(
      entrance({
        parkCode: ' ATXL/1',
        plateNumber: '鲁 A12345',
        enterTime: '2020-04-28 16:08:51',
        carType: '小型车',
        carLogo: '大众',
      }),
      ctx,
    );
    expect(result).toEqual({
      ok: true,
      value: {
        park_code: 'ATXL/1',
        plate_number: '鲁A12345',
        enter_time: 1588061331,
        car_type: '2',
        car_logo: '大众',
      },
      warnings: [],
    });
    expect(entranceSchema.safeParse({ ...(result as { value: object }).value, enter_pic: '' }).success).toBe(
      true,
    );
  });

  it('sends the label when configured, as the spec example does', () => {
    const labels = context({ isp: { codesAs: 'label' } });
    expect(transformEntrance(entrance({}), labels)).toMatchObject({
      ok: true,
      value: { car_type: CAR_TYPES['2'] },
    });
    expect(transformEntrance(entrance({ plateNumber: '无牌车' }), labels)).toMatchObject({
      value: { car_type: CAR_TYPES['5'], plate_number: '无牌车' },
    });
  });

  it.each([['无牌车'], ['_无_'], ['未知'], [''], [null]])(
    'sends no-plate %j as car type 5 with plate 无牌车',
    (plate) => {
      const result = transformEntrance(entrance({ plateNumber: plate, carType: '新能源' }), ctx);
      expect(result).toMatchObject({ ok: true, value: { plate_number: '无牌车', car_type: '5' } });
      expect(result.warnings).toEqual([expect.objectContaining({ kind: 'no-plate' })]);
    },
  );

  it('honours configured no-plate markers', () => {
    const custom = context({ transform: { noPlateMarkers: ['车牌未识别'] } });
    expect(transformEntrance(entrance({ plateNumber: '车牌未识别' }), custom)).toMatchObject({
      value: { plate_number: '无牌车', car_type: '5' },
    });
  });

  it('sends an invalid plate as is, with a warning', () => {
    const result = transformEntrance(entrance({ plateNumber: 'abc-123' }), ctx);
    expect(result).toMatchObject({ ok: true, value: { plate_number: 'ABC123' } });
    expect(result.warnings).toEqual([expect.objectContaining({ kind: 'invalid-plate', value: 'ABC123' })]);
  });

  it('maps car types and warns about unknown ones', () => {
    expect(transformEntrance(entrance({ carType: '大车' }), ctx)).toMatchObject({ value: { car_type: '1' } });
    expect(transformEntrance(entrance({ carType: '新能源', plateNumber: '京AD12345' }), ctx)).toMatchObject({
      value: { car_type: '6' },
    });
    const unknown = transformEntrance(entrance({ carType: '房车' }), ctx);
    expect(unknown).toMatchObject({ ok: true, value: { car_type: '2' } });
    expect(unknown.warnings).toEqual([expect.objectContaining({ kind: 'unknown-car-type', value: '房车' })]);
  });

  it('fills car_logo with the configured default', () => {
    expect(transformEntrance(entrance({ carLogo: null }), ctx)).toMatchObject({ value: { car_logo: '' } });
    const custom = context({ transform: { defaultCarLogo: '未知' } });
    expect(transformEntrance(entrance({ carLogo: '  ' }), custom)).toMatchObject({
      value: { car_logo: '未知' },
    });
    expect(transformEntrance(entrance({ carLogo: ' 宝马 ' }), ctx)).toMatchObject({
      value: { car_logo: '宝马' },
    });
  });

  it.each([
    [{ enterTime: '0000-00-00 00:00:00' }, ['zero-date']],
    [{ enterTime: 'soon' }, ['bad-time']],
    [{ enterTime: null }, ['missing-field']],
    [{ enterTime: '2024-06-01 12:05:01' }, ['future-time']],
    [{ parkCode: '  ' }, ['missing-field']],
    [{ parkCode: null, enterTime: '0000-00-00 00:00:00' }, ['missing-field', 'zero-date']],
  ])('%j is quarantined with %j', (fields, expected) => {
    expect(codes(transformEntrance(entrance(fields), ctx))).toEqual(expected);
  });

  it('accepts times within the future tolerance and honours its config', () => {
    expect(transformEntrance(entrance({ enterTime: '2024-06-01 12:05:00' }), ctx).ok).toBe(true);
    const strict = context({ transform: { futureToleranceSeconds: 0 } });
    expect(codes(transformEntrance(entrance({ enterTime: '2024-06-01 12:00:01' }), strict))).toEqual([
      'future-time',
    ]);
  });

  it('reads epoch times when the stream says so', () => {
    const epoch = context({ streams: { entrances: { timeFormat: 'epoch-ms' } } });
    expect(transformEntrance(entrance({ enterTime: 1588061331000 }), epoch)).toMatchObject({
      value: { enter_time: 1588061331 },
    });
  });

  it('counts warnings in metrics by stream and kind', async () => {
    const counted = createTransformContext(loadConfig({ env: {} }), { now: () => NOW });
    const get = async () =>
      (await transformWarnings.get()).values.find(
        (v) => v.labels.stream === 'entrances' && v.labels.kind === 'invalid-plate',
      )?.value ?? 0;
    const before = await get();
    transformEntrance(entrance({ plateNumber: 'XYZ' }), counted);
    expect(await get()).toBe(before + 1);
  });
});

describe('departures', () => {
  const ctx = context();

  it('turns the spec example into exactly the corrected payload', () => {
    const result = transformDeparture(
      departure({
        parkCode: ' ATXL/1',
        plateNumber: '鲁 A12345',
        enterTime: '2020-04-28 15:09:51',
        departTime: '2020-04-28 16:08:51',
        carType: '小型车',
        carLogo: '大众',
        payableFee: 3450,
        paidFee: 3450,
        payTime: '2020-04-28 16:08:49',
        payType: '支付宝',
      }),
      ctx,
    );
    expect(result).toEqual({
      ok: true,
      value: {
        park_code: 'ATXL/1',
        plate_number: '鲁A12345',
        depart_time: 1588061331,
        car_type: '2',
        car_logo: '大众',
        use_time: 59,
        payable_fee: 34.5,
        paid_fee: 34.5,
        pay_time: 1588061329,
        pay_type: '4',
      },
      enterTime: 1588057791,
      entranceId: null,
      warnings: [],
    });
    expect(
      departureSchema.safeParse({ ...(result as { value: object }).value, depart_pic: '' }).success,
    ).toBe(true);
  });

  it.each([
    [3541, 'ceil', 60],
    [3541, 'floor', 59],
    [3541, 'round', 59],
    [3570, 'round', 60],
    [3600, 'ceil', 60],
    [0, 'ceil', 0],
    [1, 'ceil', 1],
  ] as const)('%i s parked is %i min rounded %s', (seconds, rounding, minutes) => {
    expect(minutesFrom(seconds, rounding)).toBe(minutes);
  });

  it('derives use_time from the times with the configured rounding', () => {
    const row = departure({ enterTime: '2024-05-31 08:00:00', departTime: '2024-05-31 08:59:01' });
    expect(transformDeparture(row, ctx)).toMatchObject({ value: { use_time: 60 } });
    expect(transformDeparture(row, context({ transform: { useTimeRounding: 'floor' } }))).toMatchObject({
      value: { use_time: 59 },
    });
  });

  it('uses the vendor use_time in minutes or seconds', () => {
    expect(transformDeparture(departure({ useTime: 42 }), ctx)).toMatchObject({ value: { use_time: 42 } });
    expect(transformDeparture(departure({ useTime: '42' }), ctx)).toMatchObject({ value: { use_time: 42 } });
    const seconds = context({ streams: { departures: { useTimeUnit: 'seconds' } } });
    expect(transformDeparture(departure({ useTime: 2521 }), seconds)).toMatchObject({
      value: { use_time: 43 },
    });
    expect(codes(transformDeparture(departure({ useTime: -3 }), ctx))).toEqual(['bad-number']);
  });

  it('cannot derive use_time without an entrance time', () => {
    expect(codes(transformDeparture(departure({ enterTime: null }), ctx))).toEqual(['missing-field']);
    expect(transformDeparture(departure({ enterTime: null, useTime: 5 }), ctx)).toMatchObject({
      ok: true,
      enterTime: null,
    });
  });

  it('sends pay_time = depart_time when nothing was paid or the pay time is missing', () => {
    const depart = 1717117200; // 2024-05-31 09:00:00 +08:00
    expect(transformDeparture(departure({ paidFee: 0, payTime: '2024-05-31 08:30:00' }), ctx)).toMatchObject({
      value: { pay_time: depart },
    });
    expect(transformDeparture(departure({ payTime: null }), ctx)).toMatchObject({
      value: { pay_time: depart },
    });
    expect(transformDeparture(departure({ payTime: '0000-00-00 00:00:00' }), ctx)).toMatchObject({
      value: { pay_time: depart },
    });
    expect(transformDeparture(departure({ payTime: '2024-05-31 08:59:00' }), ctx)).toMatchObject({
      value: { pay_time: depart - 60 },
    });
    expect(codes(transformDeparture(departure({ payTime: '2024-05-31 8:59' }), ctx))).toEqual(['bad-time']);
  });

  it('converts fees exactly in either unit', () => {
    expect(transformDeparture(departure({ payableFee: 1, paidFee: 0 }), ctx)).toMatchObject({
      value: { payable_fee: 0.01, paid_fee: 0 },
    });
    const yuan = context({}, ['config/presets/entry-exit.yaml']);
    expect(transformDeparture(departure({ payableFee: '34.50', paidFee: 0.3 }), yuan)).toMatchObject({
      value: { payable_fee: 34.5, paid_fee: 0.3 },
    });
    const rounded = transformDeparture(departure({ payableFee: '34.505', paidFee: '0' }), yuan);
    expect(rounded).toMatchObject({ ok: true, value: { payable_fee: 34.51 } });
    expect(rounded.warnings).toEqual([
      expect.objectContaining({ kind: 'rounded-money', field: 'payableFee' }),
    ]);
    expect(transformDeparture(departure({ payableFee: null, paidFee: null }), ctx)).toMatchObject({
      value: { payable_fee: 0, paid_fee: 0 },
    });
  });

  it('maps pay types, quietly for a free visit without one', () => {
    expect(transformDeparture(departure({ payType: '支付宝扫码' }), ctx)).toMatchObject({
      value: { pay_type: '4' },
    });
    expect(transformDeparture(departure({ payType: '月卡' }), ctx)).toMatchObject({
      value: { pay_type: '7' },
    });
    const free = transformDeparture(departure({ payType: null, paidFee: 0 }), ctx);
    expect(free).toMatchObject({ ok: true, value: { pay_type: '1' } });
    expect(free.warnings).toEqual([]);
    const missing = transformDeparture(departure({ payType: null }), ctx);
    expect(missing.warnings).toEqual([expect.objectContaining({ kind: 'missing-pay-type' })]);
    const unknown = transformDeparture(departure({ payType: '数字人民币' }), ctx);
    expect(unknown.warnings).toEqual([
      expect.objectContaining({ kind: 'unknown-pay-type', value: '数字人民币' }),
    ]);
  });

  it.each([
    [{ departTime: '2024-05-31 07:59:59' }, ['depart-before-enter']],
    [{ payableFee: -100 }, ['negative-fee']],
    [{ paidFee: 'lots' }, ['bad-number']],
    [{ departTime: '0000-00-00 00:00:00' }, ['zero-date']],
    [{ enterTime: '0000-00-00 00:00:00' }, ['zero-date']],
    [{ departTime: '2024-06-02 00:00:00' }, ['future-time']],
    [{ payTime: '2024-06-02 00:00:00' }, ['future-time']],
    [{ parkCode: null, payableFee: -1, paidFee: -1 }, ['missing-field', 'negative-fee', 'negative-fee']],
  ])('%j is quarantined with %j', (fields, expected) => {
    expect(codes(transformDeparture(departure(fields), ctx))).toEqual(expected);
  });

  it('exposes the entrance time for ordering', () => {
    expect(transformDeparture(departure({}), ctx)).toMatchObject({ ok: true, enterTime: 1717113600 });
  });
});

describe('parks', () => {
  const ctx = context();
  const park = (fields: Partial<RawPark>): RawPark => ({
    vendorKey: 'ATXL/1',
    parkCode: 'ATXL/1',
    parkName: '奥体西路 1 号停车场',
    longitude: '117.123456',
    latitude: '36.654321',
    address: '济南高新区奥体西路停车场',
    ...fields,
  });

  it('sends a lot with the configured coordinate system', () => {
    const result = transformPark(park({}), ctx);
    expect(result).toEqual({
      ok: true,
      value: {
        park: {
          park_code: 'ATXL/1',
          park_name: '奥体西路 1 号停车场',
          longitude: 117.123456,
          latitude: 36.654321,
          address: '济南高新区奥体西路停车场',
          coordinate_system: 'GCJ02',
        },
        deleted: false,
      },
      warnings: [],
    });
    expect(parkSchema.safeParse((result as { value: { park: object } }).value.park).success).toBe(true);
  });

  it('converts BD09 vendor coordinates to what ISP is sent', () => {
    const bd = context({}, ['config/presets/entry-exit.yaml']);
    expect(transformPark(park({ longitude: 116.404, latitude: 39.915 }), bd)).toMatchObject({
      value: { park: { longitude: 116.397627, latitude: 39.908657, coordinate_system: 'GCJ02' } },
    });
    const toBd = context({ isp: { coordinateSystem: 'BD09' } }, ['config/presets/entry-exit.yaml']);
    expect(transformPark(park({ longitude: 116.404, latitude: 39.915 }), toBd)).toMatchObject({
      value: { park: { longitude: 116.404, latitude: 39.915, coordinate_system: 'BD09' } },
    });
  });

  it('sends lots without coordinates', () => {
    const none = transformPark(park({ longitude: null, latitude: null, parkName: null, address: null }), ctx);
    expect(none).toMatchObject({
      ok: true,
      value: { park: { park_code: 'ATXL/1', coordinate_system: 'GCJ02' } },
    });
    expect(Object.keys((none as { value: { park: object } }).value.park)).toEqual([
      'park_code',
      'coordinate_system',
    ]);
    expect(none.warnings).toEqual([expect.objectContaining({ kind: 'no-coordinates' })]);
  });

  it.each([
    [1, true],
    ['1', true],
    ['Y', true],
    [0, false],
    ['0', false],
    [null, false],
    ['N', false],
    [Buffer.from([1]), true],
  ])('deleted flag %j means deleted=%s', (flag, deleted) => {
    expect(transformPark(park({ deleted: flag as never }), ctx)).toMatchObject({
      ok: true,
      value: { deleted },
    });
  });

  it('deletes a lot even when its other fields are bad', () => {
    expect(transformPark(park({ deleted: 1, longitude: 500, latitude: 500 }), ctx)).toMatchObject({
      ok: true,
      value: { deleted: true, park: { park_code: 'ATXL/1' } },
    });
    expect(codes(transformPark(park({ parkCode: ' ' }), ctx))).toEqual(['missing-field']);
  });
});

describe('spot counts', () => {
  const ctx = context();
  const spot = (fields: Partial<RawSpotNum>): RawSpotNum => ({
    vendorKey: 'ATXL/1',
    parkCode: 'ATXL/1',
    ...fields,
  });

  it.each([
    // The spec example: 1000 total, 350 free, 650 used.
    [{ total: 1000, used: 650 }, 350, 650],
    [{ total: 1000, remain: 350 }, 350, 650],
    [{ total: 1000, used: 650, remain: 350 }, 350, 650],
    [{ total: '1000', used: '650' }, 350, 650],
    [{ total: 0, used: 0 }, 0, 0],
    [{ total: 10, remain: 10 }, 10, 0],
  ])('%j gives remain %i and used %i', (fields, remain, used) => {
    const result = transformSpotNum(spot(fields), ctx);
    expect(result).toEqual({
      ok: true,
      value: {
        park_code: 'ATXL/1',
        total_spots_num: Number(fields.total),
        remain_spots_num: remain,
        used_spots_num: used,
      },
      warnings: [],
    });
    expect(spotNumSchema.safeParse((result as { value: object }).value).success).toBe(true);
  });

  it.each([
    [{ total: 10, remain: 11 }, ['bad-spot-count']],
    [{ total: -1, used: 0 }, ['bad-spot-count']],
    [{ total: 10, used: -1 }, ['bad-spot-count']],
    [{ total: 10, used: 3, remain: 3 }, ['bad-spot-count']],
    [{ total: '10.5', used: 3 }, ['bad-number']],
    [{ total: null, used: 3 }, ['missing-field']],
    [{ total: 10 }, ['missing-field']],
    [{ parkCode: null, total: 10, used: 1 }, ['missing-field']],
  ])('%j is quarantined with %j', (fields, expected) => {
    expect(codes(transformSpotNum(spot(fields), ctx))).toEqual(expected);
  });
});
