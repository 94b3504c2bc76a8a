/**
 * ISP code tables (spec §6, §7): the only place the car type and pay type codes and their labels
 * are written down. The labels are the original document's own words (isp-parking-interface
 * .original.zh.txt §6/§7), since they are what a deployment configured to send labels puts on the wire. Vendor dictionaries (config) map vendor values onto these codes; the simulator
 * validates against them; the transforms send the code (or its label, when configured).
 */

export const CAR_TYPES = {
  '1': '大型车',
  '2': '小型车',
  '3': '警用车',
  '4': '临时车',
  '5': '无号牌车',
  '6': '新能源汽车',
} as const;

export const PAY_TYPES = {
  '1': '现金',
  '2': 'ETC',
  '3': '微信',
  '4': '支付宝',
  '5': '信用卡',
  '6': '储值卡',
  '7': '月租卡',
} as const;

export type CarTypeCode = keyof typeof CAR_TYPES;
export type PayTypeCode = keyof typeof PAY_TYPES;

export const CAR_TYPE_CODES = Object.keys(CAR_TYPES) as CarTypeCode[];
export const PAY_TYPE_CODES = Object.keys(PAY_TYPES) as PayTypeCode[];

/** The car type ISP expects for a vehicle without a readable plate. */
export const NO_PLATE_CAR_TYPE: CarTypeCode = '5';

export const COORDINATE_SYSTEMS = ['WGS84', 'GCJ02', 'BD09'] as const;
export type CoordinateSystem = (typeof COORDINATE_SYSTEMS)[number];

export function isCarTypeCode(value: string): value is CarTypeCode {
  return Object.hasOwn(CAR_TYPES, value);
}

export function isPayTypeCode(value: string): value is PayTypeCode {
  return Object.hasOwn(PAY_TYPES, value);
}

/** A field accepts the code ("2") or, for deployments configured to send labels, the label ("小型车"). */
export function carTypeFromWire(value: string): CarTypeCode | undefined {
  if (isCarTypeCode(value)) return value;
  return CAR_TYPE_CODES.find((code) => CAR_TYPES[code] === value);
}

export function payTypeFromWire(value: string): PayTypeCode | undefined {
  if (isPayTypeCode(value)) return value;
  return PAY_TYPE_CODES.find((code) => PAY_TYPES[code] === value);
}
