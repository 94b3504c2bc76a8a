/**
 * The vendor's wall clock, as our SQL needs it: the zone's current UTC offset (for the commit-lag
 * guard, computed here because MariaDB's named-zone tables are usually empty) and a Unix time
 * written the way a stream's cursor column stores time (for upper bounds given as Unix seconds).
 * Reading vendor times into Unix seconds is the transform module's job, not this one's.
 */
import { DateTime } from 'luxon';
import type { Config } from '../config/index.js';

export type TimeFormat = Config['streams']['entrances']['timeFormat'];

export const DATETIME_FORMAT = 'yyyy-MM-dd HH:mm:ss';

/** `+08:00` for Asia/Shanghai: the offset the zone has at `at` (now by default). */
export function zoneOffset(zone: string, at: Date = new Date()): string {
  return DateTime.fromJSDate(at, { zone }).toFormat('ZZ');
}

/**
 * Unix seconds as the cursor column stores time: wall-clock text in `zone`, or epoch s / ms. Used
 * for bounds (`t >= from`, `t < upTo`), so a fraction is kept to the millisecond (text gets
 * `.SSS`, which the server compares exactly) or rounded up for whole-second epochs: for an
 * integer t, `t < x` and `t >= x` mean the same as with ⌈x⌉.
 */
export function vendorTimeOf(epochSeconds: number, format: TimeFormat, zone: string): string | number {
  const ms = Math.round(epochSeconds * 1000);
  if (format === 'epoch-s') return Math.ceil(ms / 1000);
  if (format === 'epoch-ms') return ms;
  return DateTime.fromMillis(ms, { zone }).toFormat(
    ms % 1000 === 0 ? DATETIME_FORMAT : `${DATETIME_FORMAT}.SSS`,
  );
}
