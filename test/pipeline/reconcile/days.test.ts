import { describe, expect, it } from 'vitest';
import {
  checkDaysRetained,
  dayBounds,
  dayOf,
  daysBetween,
  provisionalFrom,
  ReconcileDayError,
  retainedWindow,
} from '../../../src/pipeline/reconcile/days.js';

const SH = 'Asia/Shanghai';
const at = (iso: string) => Date.parse(iso) / 1000;

describe('days in the vendor zone', () => {
  it('a Shanghai day starts at 16:00 UTC the day before and lasts 24 h', () => {
    const b = dayBounds('2026-03-01', SH);
    expect(b.start).toBe(at('2026-02-28T16:00:00Z'));
    expect(b.end - b.start).toBe(86_400);
    expect(dayOf(b.start, SH)).toBe('2026-03-01');
    expect(dayOf(b.end - 1, SH)).toBe('2026-03-01');
    expect(dayOf(b.end, SH)).toBe('2026-03-02');
  });

  it('a day with a DST change is 23 or 25 hours long', () => {
    const spring = dayBounds('2026-03-08', 'America/New_York');
    const autumn = dayBounds('2026-11-01', 'America/New_York');
    expect(spring.end - spring.start).toBe(23 * 3600);
    expect(autumn.end - autumn.start).toBe(25 * 3600);
  });

  it('lists the days of a range, both ends included, and refuses what is not a day', () => {
    expect(daysBetween('2026-02-27', '2026-03-02', SH)).toEqual([
      '2026-02-27',
      '2026-02-28',
      '2026-03-01',
      '2026-03-02',
    ]);
    expect(() => daysBetween('2026-03-02', '2026-03-01', SH)).toThrow(/before --from/);
    expect(() => daysBetween('yesterday', '2026-03-01', SH)).toThrow(
      /--from: "yesterday" is not a day; use yyyy-MM-dd/,
    );
    expect(() => daysBetween('2026-02-30', '2026-03-01', SH)).toThrow(ReconcileDayError);
  });
});

describe('the retained window', () => {
  const now = at('2026-03-10T04:00:00Z'); // 12:00 in Shanghai
  it('is the last retainDays days and today', () => {
    expect(retainedWindow(now, SH, 35)).toEqual({ first: '2026-02-03', last: '2026-03-10' });
  });

  it('a day before it says so, and which days can still be compared', () => {
    expect(() => checkDaysRetained(['2026-02-02'], now, SH, 35)).toThrow(
      '2026-02-02 is outside the retained window: delivery records are kept 35 days (reconcile.retainDays), ' +
        'so days before 2026-02-03 cannot be compared. Days that can still be compared: 2026-02-03 to 2026-03-10 (Asia/Shanghai)',
    );
    expect(() => checkDaysRetained(['2026-02-03', '2026-03-10'], now, SH, 35)).not.toThrow();
    expect(() => checkDaysRetained(['2026-03-11'], now, SH, 35)).toThrow(/after today \(2026-03-10/);
  });
});

describe('provisional hours', () => {
  const day = dayBounds('2026-03-10', SH);
  it('a day the poll has read past is settled', () => {
    expect(provisionalFrom(day, day.end)).toBeUndefined();
    expect(provisionalFrom(day, day.end + 5)).toBeUndefined();
  });

  it('today is provisional from where the stream has read up to (checkpoint, commit lag)', () => {
    const readUpTo = day.start + 11 * 3600 + 59 * 60 + 55; // 11:59:55
    expect(provisionalFrom(day, readUpTo)).toBe(readUpTo);
  });

  it('a day the poll has not reached, or a stream never read, is provisional from its start', () => {
    expect(provisionalFrom(day, day.start - 3600)).toBe(day.start);
    expect(provisionalFrom(day, undefined)).toBe(day.start);
  });
});
