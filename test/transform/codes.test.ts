import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { CAR_TYPES, PAY_TYPES } from '../../src/isp-spec/index.js';
import { unknownValues } from '../../src/metrics.js';
import { createDictionaries } from '../../src/transform/index.js';

const config = loadConfig({ env: {} });

async function unknownCount(dictionary: string, value: string): Promise<number> {
  const metric = await unknownValues.get();
  return (
    metric.values.find((v) => v.labels.dictionary === dictionary && v.labels.value === value)?.value ?? 0
  );
}

describe('dictionaries', () => {
  const { carType, payType } = createDictionaries(config);

  it.each([
    ['小型车', '2'],
    [' 大车 ', '1'],
    ['新能源', '6'],
    ['新能源小型车', '6'],
    ['警车', '3'],
    ['临时车', '4'],
    ['无牌车', '5'],
    [2, '2'],
    ['1', '1'],
  ])('car type %j is %s', (value, code) => {
    expect(carType.lookup(value)).toEqual({ code });
  });

  it.each([
    ['微信', '3'],
    ['支付宝扫码', '4'],
    ['支付宝', '4'],
    ['现金', '1'],
    ['ETC', '2'],
    ['银联', '5'],
    ['储值卡', '6'],
    ['月卡', '7'],
    ['月租车', '7'],
  ])('pay type %j is %s', (value, code) => {
    expect(payType.lookup(value)).toEqual({ code });
  });

  it('sends the default code with a warning naming an unknown value', () => {
    expect(carType.lookup('火箭')).toEqual({
      code: '2',
      warning: expect.objectContaining({ kind: 'unknown-car-type', field: 'carType', value: '火箭' }),
    });
    expect(payType.lookup(99)).toEqual({
      code: '1',
      warning: expect.objectContaining({ kind: 'unknown-pay-type', value: '99' }),
    });
    expect(payType.lookup('Apple Pay').warning?.message).toContain('dictionaries.payType.map');
  });

  it('treats NULL and blank as missing, and an unmapped column as the plain default', () => {
    expect(carType.lookup(null)).toMatchObject({ code: '2', warning: { kind: 'missing-car-type' } });
    expect(carType.lookup('  ')).toMatchObject({ code: '2', warning: { kind: 'missing-car-type' } });
    expect(carType.lookup(undefined)).toEqual({ code: '2' });
  });

  it('uses the deployment dictionary and default', () => {
    const custom = loadConfig({
      env: {},
      overrides: { dictionaries: { carType: { default: '4', map: { 'VIP 车': '2', 7: '6' } } } },
    });
    const dict = createDictionaries(custom).carType;
    expect(dict.lookup(' VIP 车 ')).toEqual({ code: '2' });
    expect(dict.lookup(7)).toEqual({ code: '6' });
    expect(dict.lookup('小型车').code).toBe('2'); // default.yaml's map is kept
    expect(dict.lookup('火箭').code).toBe('4');
  });

  it('sends labels when configured (isp.codesAs label)', () => {
    const labels = createDictionaries(loadConfig({ env: {}, overrides: { isp: { codesAs: 'label' } } }));
    expect(labels.carType.wire('2')).toBe(CAR_TYPES['2']);
    expect(labels.payType.wire('4')).toBe(PAY_TYPES['4']);
    expect(carType.wire('2')).toBe('2');
  });

  it('counts unknown values by dictionary and value (through the transforms)', async () => {
    const { createTransformContext, transformEntrance } = await import('../../src/transform/index.js');
    const ctx = createTransformContext(config, { now: () => Date.UTC(2024, 5, 1) });
    const before = await unknownCount('carType', '飞行汽车');
    const row = {
      vendorKey: '1',
      cursorTime: '2024-05-01 08:00:00',
      parkCode: 'P1',
      plateNumber: '鲁A12345',
      enterTime: '2024-05-01 08:00:00',
      carType: '飞行汽车',
    };
    transformEntrance(row, ctx);
    transformEntrance(row, ctx);
    expect(await unknownCount('carType', '飞行汽车')).toBe(before + 2);
    const silent = createTransformContext(config, { now: () => Date.UTC(2024, 5, 1), onWarnings: null });
    transformEntrance(row, silent);
    expect(await unknownCount('carType', '飞行汽车')).toBe(before + 2);
  });
});
