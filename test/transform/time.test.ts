import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { checkNotFuture, createTimeParser, type TimeFormat } from '../../src/transform/index.js';

function parse(value: unknown, zone = 'Asia/Shanghai', format: TimeFormat = 'datetime') {
  return createTimeParser(zone, format)(value, 'enterTime');
}

describe('vendor times to Unix seconds', () => {
  it.each([
    // The spec's entrance example: 1588061331 is 2020-04-28 16:08:51 in Shanghai.
    ['2020-04-28 16:08:51', 'Asia/Shanghai', 1588061331],
    ['2020-04-28T16:08:51', 'Asia/Shanghai', 1588061331],
    ['2020-04-28 16:08:51.999', 'Asia/Shanghai', 1588061331],
    ['2020-04-28 16:08:51.123456', 'Asia/Shanghai', 1588061331],
    [' 2020-04-28 16:08:51 ', 'Asia/Shanghai', 1588061331],
    ['2020-04-28', 'Asia/Shanghai', 1588003200],
    ['2024-02-29 23:59:59', 'Asia/Shanghai', 1709222399],
    ['2020-04-28 16:08:51', 'UTC', 1588090131],
    // New York: before and after the 2024-03-10 spring-forward, inside the gap (moved forward), and
    // the repeated 01:30 of 2024-11-03 (luxon reads it in standard time, -05:00).
    ['2024-03-10 01:59:59', 'America/New_York', 1710053999],
    ['2024-03-10 03:00:00', 'America/New_York', 1710054000],
    ['2024-03-10 02:30:00', 'America/New_York', 1710055800],
    ['2024-11-03 01:30:00', 'America/New_York', 1730615400],
    ['2024-11-03 00:59:59', 'America/New_York', 1730609999],
    ['2024-11-03 12:00:00', 'America/New_York', 1730653200],
    // London: 2024-03-31 01:00 GMT -> 02:00 BST.
    ['2024-03-31 00:30:00', 'Europe/London', 1711845000],
    ['2024-03-31 02:30:00', 'Europe/London', 1711848600],
    // Transitions at midnight: Santiago skips 2024-09-08 00:00-00:59 (read forward, as luxon does);
    // Tehran repeated 2000-09-20 23:00-23:59 (read in the later offset, +03:30).
    ['2024-09-08 00:30:00', 'America/Santiago', 1725769800],
    ['2000-09-20 23:00:00', 'Asia/Tehran', 969478200],
  ])('%s in %s is %i', (text, zone, expected) => {
    expect(parse(text, zone)).toBe(expected);
  });

  it.each([
    ['0000-00-00 00:00:00', 'zero-date'],
    ['0000-00-00', 'zero-date'],
    ['2024-00-10 10:00:00', 'zero-date'],
    ['2024-05-00 10:00:00', 'zero-date'],
    ['2024-02-30 10:00:00', 'bad-time'],
    ['2023-02-29 10:00:00', 'bad-time'],
    ['2024-13-01 10:00:00', 'bad-time'],
    ['2024-01-01 24:00:00', 'bad-time'],
    ['2024-01-01 10:60:00', 'bad-time'],
    ['2024-1-1 1:2:3', 'bad-time'],
    ['yesterday', 'bad-time'],
    ['', 'bad-time'],
    ['2024-01-01 10:00:00x', 'bad-time'],
    ['2024-01-01 10:00:00.12a', 'bad-time'],
    ['1999-12-31 23:59:59', 'bad-time'],
    [null, 'missing-field'],
    [1588061331, 'bad-time'],
  ])('%j is a %s reason', (value, code) => {
    const result = parse(value);
    expect(result).toMatchObject({ code, field: 'enterTime' });
  });

  it('says what to change for a number in a datetime stream and a Date object', () => {
    expect(parse(1588061331)).toMatchObject({ message: expect.stringContaining('timeFormat') });
    expect(parse(new Date())).toMatchObject({
      code: 'bad-time',
      message: expect.stringContaining('dateStrings'),
    });
  });

  it.each([
    [1588061331, 'epoch-s', 1588061331],
    ['1588061331', 'epoch-s', 1588061331],
    [1588061331.7, 'epoch-s', 1588061331],
    [1588061331999, 'epoch-ms', 1588061331],
    ['1588061331000', 'epoch-ms', 1588061331],
  ] as const)('%j as %s is %i', (value, format, expected) => {
    expect(parse(value, 'Asia/Shanghai', format)).toBe(expected);
  });

  it.each([
    [1588061331000, 'epoch-s', 'bad-time', 'milliseconds'],
    [1588061331, 'epoch-ms', 'bad-time', 'seconds'],
    [0, 'epoch-s', 'zero-date', ''],
    ['2020-04-28 16:08:51', 'epoch-s', 'bad-time', 'epoch'],
    [-5, 'epoch-s', 'bad-time', ''],
    [100, 'epoch-s', 'bad-time', '2000'],
  ] as const)('%j as %s is a %s reason', (value, format, code, hint) => {
    const result = parse(value, 'Asia/Shanghai', format);
    expect(result).toMatchObject({ code });
    expect((result as { message: string }).message).toContain(hint);
  });

  it('does not depend on the process time zone', () => {
    const before = process.env.TZ;
    const results: unknown[] = [];
    try {
      for (const tz of ['UTC', 'America/Los_Angeles', 'Asia/Kolkata']) {
        process.env.TZ = tz;
        results.push(parse('2020-04-28 16:08:51'), parse('2024-11-03 01:30:00', 'America/New_York'));
      }
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
    expect(new Set(results.filter((_, i) => i % 2 === 0))).toEqual(new Set([1588061331]));
    expect(new Set(results.filter((_, i) => i % 2 === 1))).toEqual(new Set([1730615400]));
  });

  it('agrees with luxon for any wall-clock time, DST days included (fast path = slow path)', () => {
    // Chile and Iran change at midnight, Lord Howe by 30 minutes, Samoa once skipped a whole day.
    const zones = [
      'Asia/Shanghai',
      'America/New_York',
      'Europe/London',
      'America/Santiago',
      'Asia/Tehran',
      'Australia/Lord_Howe',
      'Pacific/Apia',
    ];
    const parsers = new Map(zones.map((z) => [z, createTimeParser(z, 'datetime')]));
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.UTC(2000, 0, 2) / 1000, max: Date.UTC(2090, 0, 1) / 1000 }),
        (zone, seconds) => {
          // Any wall-clock text (formatted from an instant), read back in the zone.
          const text = DateTime.fromSeconds(seconds, { zone: 'UTC' }).toFormat('yyyy-MM-dd HH:mm:ss');
          const expected = DateTime.fromFormat(text, 'yyyy-MM-dd HH:mm:ss', { zone }).toSeconds();
          expect(parsers.get(zone)!(text, 't')).toBe(expected);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('round-trips every instant in a zone without DST', () => {
    const parser = createTimeParser('Asia/Shanghai', 'datetime');
    fc.assert(
      fc.property(fc.integer({ min: 946_684_800, max: 4_000_000_000 }), (seconds) => {
        const text = DateTime.fromSeconds(seconds, { zone: 'Asia/Shanghai' }).toFormat('yyyy-MM-dd HH:mm:ss');
        expect(parser(text, 't')).toBe(seconds);
      }),
      { numRuns: 2000 },
    );
  });

  it('flags times beyond the future tolerance', () => {
    const now = 1_700_000_000;
    expect(checkNotFuture(now + 300, 'enterTime', now, 300)).toBeUndefined();
    expect(checkNotFuture(now - 86_400, 'enterTime', now, 300)).toBeUndefined();
    expect(checkNotFuture(now + 301, 'enterTime', now, 300)).toMatchObject({
      code: 'future-time',
      field: 'enterTime',
      message: expect.stringContaining('301 s in the future'),
    });
  });
});
