/**
 * Vendor times to Unix seconds (open point 7): local DATETIME text in the vendor's zone, or epoch
 * seconds / milliseconds (stream timeFormat). Independent of the process's TZ: never
 * `new Date(string)`. Zero dates, unparseable text, implausible values and (with `checkEventTime`)
 * times too far in the future are quarantine reasons, returned, never thrown.
 *
 * Speed: the common 'YYYY-MM-DD HH:mm:ss' is parsed by hand and converted with a per-day UTC offset
 * cache; days with a zone transition (DST) fall back to luxon for every row, so ambiguous and skipped
 * wall-clock times follow luxon's rules (a repeated hour is read in the later, standard-time offset;
 * a skipped time moves forward by the gap).
 */
import { DateTime, IANAZone } from 'luxon';
import { MAX_EPOCH_SECONDS, MIN_EPOCH_SECONDS } from '../isp-spec/index.js';
import { type QuarantineReason, reason, showValue } from './types.js';

export type TimeFormat = 'datetime' | 'epoch-s' | 'epoch-ms';

/** Parses one vendor time value; a number is Unix seconds, an object is why it cannot be one. */
export type TimeParser = (value: unknown, field: string) => number | QuarantineReason;

/** Day offsets cached per parser; a long backfill sees a few thousand days at most. */
const MAX_CACHED_DAYS = 20_000;
/** Marks a day with a zone transition: convert each row with luxon. */
const TRANSITION_DAY = Number.NaN;
const DAY_MS = 86_400_000;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1] ?? 0;
}

/** Two ASCII digits at `i` as a number, or -1. */
function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

export function createTimeParser(timeZone: string, format: TimeFormat): TimeParser {
  const zone = IANAZone.create(timeZone);
  if (!zone.isValid) throw new Error(`createTimeParser: invalid time zone ${timeZone}`);
  const dayOffsets = new Map<number, number>();

  /** UTC offset in minutes valid for the whole local day, or NaN when the day has a transition. */
  function dayOffset(year: number, month: number, day: number): number {
    const key = year * 10_000 + month * 100 + day;
    const cached = dayOffsets.get(key);
    if (cached !== undefined) return cached;
    // The noon offset holds for every wall-clock time of the day when no transition happens from a day
    // before its start to a day after its end: a gap or overlap at midnight (Chile, Iran) reaches into
    // the neighbouring day, and Samoa once skipped a whole day.
    const noon = DateTime.fromObject({ year, month, day, hour: 12 }, { zone }).offset;
    const start = Date.UTC(year, month - 1, day) - noon * 60_000;
    const constant = [start - DAY_MS, start, start + DAY_MS - 1000, start + 2 * DAY_MS].every(
      (instant) => zone.offset(instant) === noon,
    );
    const offset = constant ? noon : TRANSITION_DAY;
    if (dayOffsets.size >= MAX_CACHED_DAYS) dayOffsets.clear();
    dayOffsets.set(key, offset);
    return offset;
  }

  function fromDatetime(text: string, field: string): number | QuarantineReason {
    const s =
      text.length > 0 && (text.charCodeAt(0) <= 32 || text.charCodeAt(text.length - 1) <= 32)
        ? text.trim()
        : text;
    // 'YYYY-MM-DD', optionally ' HH:mm:ss' (or 'T'), optionally '.fraction' (DATETIME(n)).
    const n = s.length;
    const shapeOk =
      (n === 10 || (n >= 19 && (n === 19 || s.charCodeAt(19) === 46))) &&
      s.charCodeAt(4) === 45 &&
      s.charCodeAt(7) === 45 &&
      (n === 10 ||
        ((s.charCodeAt(10) === 32 || s.charCodeAt(10) === 84) &&
          s.charCodeAt(13) === 58 &&
          s.charCodeAt(16) === 58));
    const y1 = shapeOk ? digits2(s, 0) : -1;
    const y2 = shapeOk ? digits2(s, 2) : -1;
    const month = shapeOk ? digits2(s, 5) : -1;
    const day = shapeOk ? digits2(s, 8) : -1;
    const hour = n === 10 ? 0 : digits2(s, 11);
    const minute = n === 10 ? 0 : digits2(s, 14);
    const second = n === 10 ? 0 : digits2(s, 17);
    if (y1 < 0 || y2 < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) {
      return reason('bad-time', field, `${field} "${showValue(text)}" is not a 'YYYY-MM-DD HH:mm:ss' time`);
    }
    for (let i = 20; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) {
        return reason('bad-time', field, `${field} "${showValue(text)}" is not a 'YYYY-MM-DD HH:mm:ss' time`);
      }
    }
    const year = y1 * 100 + y2;
    if (year === 0 || month === 0 || day === 0) {
      return reason('zero-date', field, `${field} is a zero date ("${showValue(text)}")`);
    }
    if (month > 12 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
      return reason('bad-time', field, `${field} "${showValue(text)}" is not a valid date and time`);
    }
    const offset = dayOffset(year, month, day);
    let seconds: number;
    if (!Number.isNaN(offset)) {
      // The whole day has one offset: wall clock as if UTC, minus the offset.
      seconds = Date.UTC(year, month - 1, day, hour, minute, second) / 1000 - offset * 60;
    } else {
      seconds = Math.floor(
        DateTime.fromObject({ year, month, day, hour, minute, second }, { zone }).toMillis() / 1000,
      );
    }
    return plausible(seconds, field, text);
  }

  function fromEpoch(value: unknown, field: string, unit: 's' | 'ms'): number | QuarantineReason {
    let num: number;
    if (typeof value === 'number') num = value;
    else if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)) num = Number(value);
    else {
      return reason(
        'bad-time',
        field,
        `${field} "${showValue(value)}" is not an epoch number (timeFormat epoch-${unit})`,
      );
    }
    if (!Number.isFinite(num) || num < 0) {
      return reason('bad-time', field, `${field} "${showValue(value)}" is not an epoch number`);
    }
    if (num === 0) return reason('zero-date', field, `${field} is 0 (no time)`);
    if (unit === 's' && num > MAX_EPOCH_SECONDS) {
      return reason(
        'bad-time',
        field,
        `${field} ${showValue(value)} looks like milliseconds; set the stream's timeFormat to epoch-ms`,
      );
    }
    if (unit === 'ms' && num <= MAX_EPOCH_SECONDS) {
      return reason(
        'bad-time',
        field,
        `${field} ${showValue(value)} looks like seconds; set the stream's timeFormat to epoch-s`,
      );
    }
    return plausible(Math.floor(unit === 'ms' ? num / 1000 : num), field, value);
  }

  if (format === 'datetime') {
    return (value, field) => {
      if (typeof value === 'string') return fromDatetime(value, field);
      if (value === null || value === undefined) return reason('missing-field', field, `${field} is NULL`);
      if (value instanceof Date) {
        return reason(
          'bad-time',
          field,
          `${field} arrived as a Date object: the vendor reader must use dateStrings`,
        );
      }
      return reason(
        'bad-time',
        field,
        `${field} ${showValue(value)} is a number, but the stream's timeFormat is datetime (epoch-s or epoch-ms?)`,
      );
    };
  }
  const unit = format === 'epoch-ms' ? 'ms' : 's';
  return (value, field) => {
    if (value === null || value === undefined) return reason('missing-field', field, `${field} is NULL`);
    return fromEpoch(value, field, unit);
  };
}

function plausible(seconds: number, field: string, raw: unknown): number | QuarantineReason {
  if (seconds < MIN_EPOCH_SECONDS) {
    return reason('bad-time', field, `${field} "${showValue(raw)}" is before 2000-01-01`);
  }
  if (seconds > MAX_EPOCH_SECONDS) {
    return reason(
      'bad-time',
      field,
      `${field} "${showValue(raw)}" is too far in the future to be an event time`,
    );
  }
  return seconds;
}

/** An event time later than now + tolerance is a quarantine reason (clock or zone misconfigured). */
export function checkNotFuture(
  seconds: number,
  field: string,
  nowSeconds: number,
  toleranceSeconds: number,
): QuarantineReason | undefined {
  if (seconds <= nowSeconds + toleranceSeconds) return undefined;
  return reason(
    'future-time',
    field,
    `${field} is ${seconds - nowSeconds} s in the future (tolerance ${toleranceSeconds} s): check vendor.timeZone and the vendor's clock`,
  );
}
