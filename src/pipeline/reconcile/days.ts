/**
 * Days as reconciliation counts them: calendar days in the vendor's zone, as half-open ranges of
 * Unix seconds (a DST day is 23 or 25 hours long), the window the delivery records are kept for,
 * and which part of a day is still provisional (not read yet). Pure.
 */
import { DateTime } from 'luxon';

export const DAY_FORMAT = 'yyyy-MM-dd';

/** An argument that is not a day, or a day outside what can be compared. */
export class ReconcileDayError extends Error {
  override readonly name = 'ReconcileDayError';
}

/** [start, end) of `day` in `zone`, Unix s. */
export function dayBounds(day: string, zone: string): { start: number; end: number } {
  const start = parseDay(day, zone, 'day');
  return { start: start.toSeconds(), end: start.plus({ days: 1 }).toSeconds() };
}

/** The day (yyyy-MM-dd, in `zone`) an instant falls in. */
export function dayOf(epochSeconds: number, zone: string): string {
  return DateTime.fromSeconds(epochSeconds, { zone }).toFormat(DAY_FORMAT);
}

/** The day before `day`. */
export function previousDay(day: string, zone: string): string {
  return parseDay(day, zone, 'day').minus({ days: 1 }).toFormat(DAY_FORMAT);
}

/** Every day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string, zone: string): string[] {
  const first = parseDay(from, zone, '--from');
  const last = parseDay(to, zone, '--to');
  if (last < first) throw new ReconcileDayError(`--to ${to} is before --from ${from}`);
  const out: string[] = [];
  for (let d = first; d <= last; d = d.plus({ days: 1 })) out.push(d.toFormat(DAY_FORMAT));
  return out;
}

export function parseDay(text: string, zone: string, flag: string): DateTime {
  const parsed = /^\d{4}-\d{2}-\d{2}$/.test(text.trim())
    ? DateTime.fromFormat(text.trim(), DAY_FORMAT, { zone })
    : DateTime.invalid('format');
  if (!parsed.isValid)
    throw new ReconcileDayError(
      `${flag}: "${text}" is not a day; use yyyy-MM-dd, e.g. 2026-03-01 (in ${zone})`,
    );
  return parsed.startOf('day');
}

/**
 * The days whose delivery records are still kept: the last `retainDays` days before today, and
 * today. The ledger keeps a day's keys `retainDays` past the day (src/state/ledger.ts), so the
 * oldest day here still has all of them.
 */
export function retainedWindow(
  nowSeconds: number,
  zone: string,
  retainDays: number,
): { first: string; last: string } {
  const today = DateTime.fromSeconds(nowSeconds, { zone }).startOf('day');
  return { first: today.minus({ days: retainDays }).toFormat(DAY_FORMAT), last: today.toFormat(DAY_FORMAT) };
}

/**
 * Refuses days that cannot be compared: before the retained window (the delivery records are
 * gone) or after today (nothing recorded yet). The message says what can still be compared.
 */
export function checkDaysRetained(
  days: readonly string[],
  nowSeconds: number,
  zone: string,
  retainDays: number,
): void {
  const { first, last } = retainedWindow(nowSeconds, zone, retainDays);
  const tooOld = days.filter((d) => d < first);
  const future = days.filter((d) => d > last);
  if (tooOld.length)
    throw new ReconcileDayError(
      `${describe(tooOld)} ${tooOld.length > 1 ? 'are' : 'is'} outside the retained window: delivery records are kept ` +
        `${retainDays} days (reconcile.retainDays), so days before ${first} cannot be compared. ` +
        `Days that can still be compared: ${first} to ${last} (${zone})`,
    );
  if (future.length)
    throw new ReconcileDayError(
      `${describe(future)} ${future.length > 1 ? 'are' : 'is'} after today (${last} in ${zone}): nothing recorded yet. ` +
        `Days that can be compared: ${first} to ${last}`,
    );
}

function describe(days: readonly string[]): string {
  return days.length === 1 ? days[0]! : `${days[0]} to ${days.at(-1)}`;
}

/**
 * Where a day stops being settled, Unix s, or undefined when all of it is. `readUpTo`: everything
 * before it has been read and handed on by the stream's poll (its checkpoint; undefined when it
 * never read). A day reaching past it (today, or a day the poll has not finished) is provisional
 * from there: its later events are not missing, only not read yet.
 */
export function provisionalFrom(
  bounds: { start: number; end: number },
  readUpTo: number | undefined,
): number | undefined {
  const settledUpTo = readUpTo ?? Number.NEGATIVE_INFINITY;
  if (settledUpTo >= bounds.end) return undefined;
  return Math.max(bounds.start, settledUpTo);
}
