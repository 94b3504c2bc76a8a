/**
 * Long by design: the demo's whole vocabulary (lots, plates, makes, durations, fees) in one place.
 *
 * Realistic, reproducible content for the demo vendor databases: lots around Jinan, plates
 * (鲁A12345, new-energy 京AD12345, police 鲁A1234警, 无牌车), car makes, parking durations with a
 * daily rhythm, fees (first 30 minutes free, then per started hour, capped per day) and payment
 * kinds. Style-neutral: visit-table.ts and entry-exit.ts decide how a visit is stored.
 *
 * Pure apart from the seeded random source; never touches a database.
 */
import { DateTime } from 'luxon';
import { convertCoordinates } from '../../transform/coordinates.js';

/** mulberry32 with helpers: tiny, fast, and the same sequence for the same seed. */
export interface Random {
  next(): number;
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T;
}

export function createRandom(seed: number): Random {
  let a = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)]!,
    weighted(items) {
      let total = 0;
      for (const [, w] of items) total += w;
      let r = next() * total;
      for (const [item, w] of items) {
        r -= w;
        if (r < 0) return item;
      }
      return items[items.length - 1]![0];
    },
  };
}

/** What kind of car, independent of how a vendor spells it. `unknown` is a deliberately odd one. */
export type CarKind = 'small' | 'large' | 'newEnergy' | 'police' | 'visitor' | 'noPlate' | 'unknown';
/** How a visit was paid. `unknown` is a method no dictionary knows. */
export type PayKind = 'wechat' | 'alipay' | 'cash' | 'etc' | 'unionpay' | 'stored' | 'monthly' | 'unknown';

export interface DemoLot {
  code: string;
  name: string;
  address: string;
  /** GCJ-02 (Amap) coordinates; styles convert to what they store. */
  lng: number;
  lat: number;
  total: number;
}

/** A defect put in on purpose (seed `bad: true`), for quarantine and robustness tests. */
export type BadKind =
  | 'null-plate'
  | 'zero-date'
  | 'zero-pay-time'
  | 'negative-fee'
  | 'unknown-kind'
  | 'missing-photo';

export interface Visit {
  /** Vendor id of the visit (car_inout.id; t_entry.entry_id). */
  id: number;
  /** t_exit.exit_id (entry-exit style), once the car has left. */
  exitId?: number;
  parkCode: string;
  plate: string | null;
  /** Plate read at the exit camera: usually the same, sometimes empty or misread. */
  outPlate: string | null;
  kind: CarKind;
  brand: string;
  inEpoch: number;
  outEpoch: number | null;
  payableFen: number;
  paidFen: number;
  payEpoch: number | null;
  pay: PayKind;
  /** Photo pool indexes; null = the camera stored none. */
  inPhoto: number | null;
  outPhoto: number | null;
  bad?: BadKind;
}

const PROVINCES: ReadonlyArray<readonly [string, number]> = [
  ['鲁', 70],
  ['京', 5],
  ['冀', 5],
  ['豫', 4],
  ['苏', 4],
  ['沪', 3],
  ['浙', 3],
  ['粤', 3],
  ['晋', 3],
];
const PLATE_LETTERS = [...'ABCDEFGHJKLMNPQRSTUVWXYZ'];
const DIGITS = [...'0123456789'];
const BRANDS = [
  '大众',
  '丰田',
  '本田',
  '日产',
  '别克',
  '现代',
  '宝马',
  '奔驰',
  '奥迪',
  '长安',
  '吉利',
  '哈弗',
  '福特',
  '起亚',
];
const EV_BRANDS = ['比亚迪', '特斯拉', '蔚来', '小鹏', '理想', '五菱', '极氪', '埃安'];
const TRUCK_BRANDS = ['解放', '东风', '重汽', '福田', '金龙', '宇通'];

const PLACES = [
  '泉城广场',
  '大明湖东门',
  '趵突泉北路',
  '万达广场',
  '高新万达',
  '省立医院',
  '齐鲁医院',
  '济南西站',
  '奥体中心',
  '恒隆广场',
  '千佛山',
  '芙蓉街',
  '印象济南',
  '汉峪金谷',
  '经十路银座',
  '工业园区',
];
const SUFFIXES = ['地下停车场', '停车场', '立体停车库', '地面停车场', 'P2停车场'];
const DISTRICTS = ['历下区', '市中区', '槐荫区', '天桥区', '历城区', '高新区'];
const ROADS = ['泉城路', '经十路', '历山路', '解放路', '工业南路', '舜华路', '二环东路', '文化西路'];

/** Jinan, GCJ-02. */
const CENTER = { lng: 117.000923, lat: 36.675807 };

/** The demo's lot codes are `ATXL/1`, `ATXL/2`, ... unless a seed is given another prefix. */
export const DEMO_LOT_PREFIX = 'ATXL';

/**
 * Letters, digits, `-` and `_`, up to 24: a code (`<prefix>/<n>`) stays within the demo schemas'
 * 32 characters, has no "," (ISP joins codes with it) and makes a folder name of its own.
 */
const LOT_PREFIX = /^[A-Za-z0-9_-]{1,24}$/;

/**
 * The code of lot `n` (from 1) under `prefix`. Two demo databases delivered by one process need
 * different prefixes: a lot code claimed by two sources is refused.
 */
export function demoLotCode(n: number, prefix: string = DEMO_LOT_PREFIX): string {
  if (!LOT_PREFIX.test(prefix)) {
    throw new Error(
      `demo lot prefix ${JSON.stringify(prefix)}: use 1 to 24 letters, digits, "-" or "_" (e.g. ATXL, BTXL)`,
    );
  }
  return `${prefix}/${n}`;
}

/** Whether `code` is one of the demo lot codes under `prefix`. */
export function isDemoLotOf(code: string, prefix: string = DEMO_LOT_PREFIX): boolean {
  return code.startsWith(`${prefix}/`) && /^[1-9]\d*$/.test(code.slice(prefix.length + 1));
}

export function makeLots(count: number, rnd: Random, prefix: string = DEMO_LOT_PREFIX): DemoLot[] {
  const lots: DemoLot[] = [];
  for (let i = 1; i <= count; i++) {
    const place = PLACES[(i - 1) % PLACES.length]!;
    const round = Math.floor((i - 1) / PLACES.length);
    lots.push({
      code: demoLotCode(i, prefix),
      name: `${place}${round ? `${round + 1}号` : ''}${rnd.pick(SUFFIXES)}`,
      address: `山东省济南市${rnd.pick(DISTRICTS)}${rnd.pick(ROADS)}${rnd.int(1, 399)}号`,
      lng: round6(CENTER.lng + (rnd.next() - 0.5) * 0.16),
      lat: round6(CENTER.lat + (rnd.next() - 0.5) * 0.1),
      total: rnd.weighted([
        [rnd.int(40, 120), 5],
        [rnd.int(120, 400), 4],
        [rnd.int(400, 1200), 1],
      ]),
    });
  }
  return lots;
}

/** GCJ-02 -> BD-09 (Baidu), as a BD09 vendor stores its lots (the transform's converter). */
export function toBd09(lng: number, lat: number): [number, number] {
  const result = convertCoordinates(lng, lat, 'GCJ02', 'BD09');
  if (!result.ok || !('longitude' in result)) throw new Error(`demo lot outside China: ${lng}, ${lat}`);
  return [result.longitude, result.latitude];
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

function chars(rnd: Random, alphabet: readonly string[], n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd.next() * alphabet.length)];
  return s;
}

export function makePlate(kind: CarKind, rnd: Random): string {
  const head =
    rnd.weighted(PROVINCES) +
    rnd.weighted([
      ['A', 60],
      [rnd.pick(PLATE_LETTERS), 40],
    ]);
  switch (kind) {
    case 'noPlate':
      return '无牌车';
    case 'newEnergy':
      // Small new-energy plates: D (electric) or F (hybrid), then five characters.
      return `${head}${rnd.pick(['D', 'F'])}${rnd.chance(0.3) ? rnd.pick(PLATE_LETTERS) : rnd.pick(DIGITS)}${chars(rnd, DIGITS, 4)}`;
    case 'police':
      return `${head}${chars(rnd, DIGITS, 4)}警`;
    default: {
      // Up to two letters among the five characters.
      const body = rnd.chance(0.35)
        ? `${rnd.pick(PLATE_LETTERS)}${chars(rnd, DIGITS, 4)}`
        : rnd.chance(0.1)
          ? `${chars(rnd, DIGITS, 3)}${chars(rnd, PLATE_LETTERS, 2)}`
          : chars(rnd, DIGITS, 5);
      return head + body;
    }
  }
}

export function makeKind(rnd: Random): CarKind {
  return rnd.weighted<CarKind>([
    ['small', 72],
    ['newEnergy', 14],
    ['visitor', 6],
    ['large', 4],
    ['noPlate', 3],
    ['police', 1],
  ]);
}

export function makeBrand(kind: CarKind, rnd: Random): string {
  if (kind === 'noPlate') return '';
  if (kind === 'newEnergy') return rnd.pick(EV_BRANDS);
  if (kind === 'large') return rnd.pick(TRUCK_BRANDS);
  return rnd.pick(BRANDS);
}

export function makePay(kind: CarKind, rnd: Random): PayKind {
  if (kind === 'police') return 'cash'; // exempt: fee 0
  return rnd.weighted<PayKind>([
    ['wechat', 40],
    ['alipay', 28],
    ['monthly', 12],
    ['cash', 7],
    ['etc', 6],
    ['unionpay', 4],
    ['stored', 3],
  ]);
}

/** Minutes parked: mostly 20 min - 4 h, a tail of overnight and multi-day stays. */
export function makeDurationSeconds(rnd: Random): number {
  const u = Math.max(1e-9, rnd.next());
  const v = rnd.next();
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  const minutes = Math.exp(Math.log(90) + 1.1 * normal);
  return Math.round(Math.min(3 * 24 * 60, Math.max(2, minutes)) * 60 + rnd.int(0, 59));
}

/** First 30 minutes free, then 2 yuan per started hour (large cars 4), at most 30 yuan a day. */
export function feeFen(kind: CarKind, pay: PayKind, seconds: number): number {
  if (kind === 'police' || pay === 'monthly') return 0;
  const minutes = seconds / 60;
  if (minutes <= 30) return 0;
  const perHour = kind === 'large' ? 400 : 200;
  const days = Math.floor(minutes / 1440);
  const rest = minutes - days * 1440;
  return days * 3000 + Math.min(3000, Math.ceil(rest / 60) * perHour);
}

/** Relative traffic by local hour: quiet nights, morning and evening peaks. */
const HOUR_WEIGHT = [1, 0.5, 0.3, 0.3, 0.4, 1, 3, 7, 9, 8, 7, 7, 8, 7, 7, 7, 8, 9, 9, 7, 5, 4, 3, 2];

/** `count` entry times (Unix s) in [start, end), sorted, following the daily rhythm in `zone`. */
export function makeEntryTimes(
  count: number,
  start: number,
  end: number,
  zone: string,
  rnd: Random,
): Float64Array {
  const times = new Float64Array(count);
  const hourOf = hourInZone(zone);
  for (let i = 0; i < count; ) {
    const t = Math.floor(start + rnd.next() * (end - start));
    if (rnd.next() * 9 <= HOUR_WEIGHT[hourOf(t)]!) times[i++] = t;
  }
  return times.sort();
}

/**
 * Unix seconds -> seconds to add for the wall clock of `zone`, cached per hour (a seed converts a
 * million times; luxon per value would dominate).
 */
function zoneOffsets(zone: string): (epoch: number) => number {
  const offsets = new Map<number, number>();
  return (epoch) => {
    const hourKey = Math.floor(epoch / 3600);
    let offset = offsets.get(hourKey);
    if (offset === undefined) {
      offset = DateTime.fromSeconds(hourKey * 3600, { zone }).offset * 60;
      if (offsets.size > 100_000) offsets.clear();
      offsets.set(hourKey, offset);
    }
    return offset;
  };
}

function hourInZone(zone: string): (epoch: number) => number {
  const offsetOf = zoneOffsets(zone);
  return (epoch) => Math.floor(((epoch + offsetOf(epoch)) % 86_400) / 3600);
}

/** Unix seconds -> the vendor's wall-clock 'YYYY-MM-DD HH:mm:ss' in `zone`. */
export function wallClock(zone: string): (epoch: number) => string {
  const offsetOf = zoneOffsets(zone);
  return (epoch) => new Date((epoch + offsetOf(epoch)) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** A visit still inside the lot, as a style reads it back (traffic resumes after a restart). */
export function insideVisit(
  read: { id: number; parkCode: string; plate: string; kind: CarKind; brand: string; inEpoch: number },
  rnd: Random,
): Visit {
  return {
    ...read,
    outPlate: null,
    outEpoch: null,
    payableFen: 0,
    paidFen: 0,
    payEpoch: null,
    pay: makePay(read.kind, rnd),
    inPhoto: null,
    outPhoto: null,
  };
}

/** Plate as the exit camera read it. */
export function makeOutPlate(plate: string | null, rnd: Random): string | null {
  if (plate === null) return null;
  if (rnd.chance(0.04)) return ''; // no read at the exit: the vendor falls back to the entry plate
  if (plate !== '无牌车' && rnd.chance(0.02)) {
    // A misread character.
    const i = rnd.int(2, plate.length - 1);
    return plate.slice(0, i) + rnd.pick(DIGITS) + plate.slice(i + 1);
  }
  return plate;
}

export interface VisitInput {
  id: number;
  parkCode: string;
  inEpoch: number;
  /** When the car left (null: still inside). */
  outEpoch: number | null;
  /** Photo pool size (0: no photos). */
  photoPool: number;
  /** Chance that a camera stored no photo. */
  missingPhoto?: number;
}

/** A complete visit with every field a vendor stores, from its id, lot and times. */
export function makeVisit(input: VisitInput, rnd: Random): Visit {
  const kind = makeKind(rnd);
  const plate = makePlate(kind, rnd);
  const pay = makePay(kind, rnd);
  const visit: Visit = {
    id: input.id,
    parkCode: input.parkCode,
    plate,
    outPlate: null,
    kind,
    brand: makeBrand(kind, rnd),
    inEpoch: input.inEpoch,
    outEpoch: null,
    payableFen: 0,
    paidFen: 0,
    payEpoch: null,
    pay,
    inPhoto: photoIndex(input, rnd),
    outPhoto: null,
  };
  if (input.outEpoch !== null) leave(visit, input.outEpoch, input, rnd);
  return visit;
}

/** The car leaves: exit plate, fee, payment and exit photo. */
export function leave(
  visit: Visit,
  outEpoch: number,
  photos: Omit<VisitInput, 'id' | 'parkCode' | 'inEpoch' | 'outEpoch'>,
  rnd: Random,
): void {
  visit.outEpoch = outEpoch;
  visit.outPlate = makeOutPlate(visit.plate, rnd);
  visit.payableFen = feeFen(visit.kind, visit.pay, outEpoch - visit.inEpoch);
  // Coupons: the shop pays part.
  visit.paidFen =
    visit.payableFen > 0 && rnd.chance(0.05) ? Math.max(0, visit.payableFen - 500) : visit.payableFen;
  // Paid at a pay station a few minutes before leaving, or at the gate.
  visit.payEpoch =
    visit.payableFen > 0 ? outEpoch - (rnd.chance(0.4) ? rnd.int(30, 900) : rnd.int(0, 20)) : null;
  if (visit.payEpoch !== null && visit.payEpoch < visit.inEpoch) visit.payEpoch = outEpoch;
  visit.outPhoto = photoIndex(photos, rnd);
}

function photoIndex(input: { photoPool: number; missingPhoto?: number }, rnd: Random): number | null {
  if (input.photoPool <= 0 || rnd.chance(input.missingPhoto ?? 0.02)) return null;
  // Mostly small photos; the pool's large ones (the last two) now and then.
  const large = input.photoPool > 2 && rnd.chance(0.04);
  return large ? input.photoPool - 1 - rnd.int(0, 1) : rnd.int(0, Math.max(0, input.photoPool - 3));
}
