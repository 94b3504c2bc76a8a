/** The lot health rules, pure: facts in, alerts with their sentences out. No I/O, no clock. */
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import {
  deliveryLatency,
  duration,
  evaluateRules,
  type HealthFacts,
  quietLot,
  readLag,
  staleCount,
  undeliveredLot,
  usualGap,
  vendorClockSkew,
} from '../../../src/pipeline/health/rules.js';
import { transitions } from '../../../src/pipeline/health/transitions.js';
import { hourOfWeek, type LotHealthFacts } from '../../../src/state/lot-health.js';

const ZONE = 'Asia/Shanghai';
const settings = loadConfig({ env: {} }).alerts;
const t = (iso: string) => DateTime.fromISO(iso, { zone: ZONE }).toSeconds();
/** The week index of a time, as the store writes it. */
const weekOf = (iso: string) => hourOfWeek(t(iso), 8 * 3600).week;

function facts(patch: Partial<HealthFacts>): HealthFacts {
  return {
    now: t('2026-12-07T10:00'),
    zone: ZONE,
    vendorClock: null,
    lots: [],
    retiredLots: new Set(),
    outcomes: new Map(),
    streams: [],
    ...patch,
  };
}

describe('hour of the week', () => {
  it('is the vendor zone’s weekday and hour, Monday 00:00 = 0, as luxon counts them', () => {
    for (const iso of [
      '2026-11-30T00:00',
      '2026-11-30T09:59',
      '2026-12-02T13:30',
      '2026-12-06T23:59',
      '1970-01-01T08:00',
    ]) {
      const dt = DateTime.fromISO(iso, { zone: ZONE });
      expect(hourOfWeek(dt.toSeconds(), dt.offset * 60).slot, iso).toBe((dt.weekday - 1) * 24 + dt.hour);
    }
    expect(weekOf('2026-12-06T23:59') + 1).toBe(weekOf('2026-12-07T00:00'));
    expect(weekOf('2026-12-07T00:00')).toBe(weekOf('2026-12-13T23:59'));
  });
});

describe('quiet lot', () => {
  const lot = (patch: Partial<LotHealthFacts>): LotHealthFacts => ({
    parkCode: 'ATXL/3',
    eventsSinceCount: 0,
    ...patch,
  });
  const busyMonday = lot({
    lastEvent: t('2026-12-07T10:00'),
    usualGap: { seconds: 600, week: weekOf('2026-11-30T10:00') }, // learned last Monday
  });
  const q = settings.quietLot; // factor 4, floor 30 min

  it('alerts past factor × the usual gap of the hour its silence began in', () => {
    expect(quietLot(busyMonday, t('2026-12-07T10:40'), ZONE, q)).toBeUndefined(); // 4 × 10 min
    const alert = quietLot(busyMonday, t('2026-12-07T10:41'), ZONE, q);
    expect(alert).toMatchObject({ alert: 'quiet-lot', lot: 'ATXL/3', stream: '' });
    expect(alert?.reason).toBe(
      'lot ATXL/3 has had no entrance or departure for 41 min (last at 2026-12-07 10:00:00); a silence that ' +
        "begins Mondays at 10:00 usually lasts at most 10 min, so it alerts after 40 min. Check the lot's " +
        "barriers and cameras and the vendor's system at the lot; it clears with the lot’s next event",
    );
  });

  it('never alerts before the floor, however regular the lot', () => {
    const regular = lot({ ...busyMonday, usualGap: { seconds: 60, week: busyMonday.usualGap!.week } });
    expect(quietLot(regular, t('2026-12-07T10:30'), ZONE, q)).toBeUndefined();
    expect(quietLot(regular, t('2026-12-07T10:31'), ZONE, q)).toBeDefined();
    expect(
      quietLot(regular, t('2026-12-07T10:31'), ZONE, { factor: 4, minSilenceSeconds: 7200 }),
    ).toBeUndefined();
  });

  it('without history for that hour (or at all) it never alerts', () => {
    expect(
      quietLot(lot({ lastEvent: t('2026-12-07T10:00') }), t('2026-12-09T10:00'), ZONE, q),
    ).toBeUndefined();
    expect(quietLot(lot({}), t('2026-12-09T10:00'), ZONE, q)).toBeUndefined();
  });

  it('a long night silence learned there does not alert at night', () => {
    const night = lot({
      lastEvent: t('2026-12-07T22:40'),
      usualGap: { seconds: 8.5 * 3600, week: weekOf('2026-11-30T22:00') },
    });
    expect(quietLot(night, t('2026-12-08T07:00'), ZONE, q)).toBeUndefined();
    expect(quietLot(night, t('2026-12-09T08:40'), ZONE, q)).toBeUndefined(); // 34 h = 4 × 8.5 h
    expect(quietLot(night, t('2026-12-09T08:41'), ZONE, q)).toBeDefined();
  });

  it('forgets slowly: a gap last seen weeks ago counts half for each week after the first', () => {
    const learned = { seconds: 3_600, week: weekOf('2026-11-02T10:00') };
    expect(usualGap(lot({ usualGap: learned }), weekOf('2026-11-09T10:00'))).toBe(3_600);
    expect(usualGap(lot({ usualGap: learned }), weekOf('2026-11-16T10:00'))).toBe(1_800);
    expect(usualGap(lot({ usualGap: learned }), weekOf('2026-12-07T10:00'))).toBe(3_600 / 16);
  });

  it('measures the silence on the vendor’s clock and skips lots that are gone', () => {
    const f = facts({ now: t('2026-12-07T10:35'), lots: [busyMonday] });
    expect(evaluateRules(f, settings)).toEqual([]);
    // The vendor clock 10 min ahead: its events are stamped 10 min later than this host's now.
    expect(
      evaluateRules({ ...f, vendorClock: { skewSeconds: 600, at: f.now } }, settings).map((a) => a.alert),
    ).toEqual(['quiet-lot', 'vendor-clock-skew']);
    expect(
      evaluateRules({ ...f, now: t('2026-12-07T11:00'), retiredLots: new Set(['ATXL/3']) }, settings),
    ).toEqual([]);
  });
});

describe('stale count', () => {
  const s = settings.staleCount; // 3 h, 20 events
  const lot: LotHealthFacts = {
    parkCode: 'P1',
    lastEvent: t('2026-12-07T12:55'),
    count: { values: '120/37/83', changedAt: t('2026-12-07T09:00') },
    eventsSinceCount: 25,
  };
  it('alerts when unchanged for hours while events flow', () => {
    expect(staleCount(lot, t('2026-12-07T11:59'), t('2026-12-07T11:59'), ZONE, s)).toBeUndefined();
    expect(staleCount(lot, t('2026-12-07T13:00'), t('2026-12-07T13:00'), ZONE, s)?.reason).toBe(
      'the free-space count of lot P1 has stayed at 37 free of 120 for 4 h (since 2026-12-07 09:00:00) while ' +
        "25 of its entrances and departures were delivered: the vendor's space counter (or the job that updates it) " +
        'looks stuck; check it at the vendor. It clears when the count changes',
    );
  });
  it('not with too few events since, nor when the events stopped too (that is a quiet lot)', () => {
    expect(
      staleCount({ ...lot, eventsSinceCount: 19 }, t('2026-12-07T13:00'), t('2026-12-07T13:00'), ZONE, s),
    ).toBeUndefined();
    expect(staleCount(lot, t('2026-12-07T16:00'), t('2026-12-07T16:00'), ZONE, s)).toBeUndefined();
    expect(
      staleCount({ ...lot, count: undefined }, t('2026-12-07T13:00'), t('2026-12-07T13:00'), ZONE, s),
    ).toBeUndefined();
  });
});

describe('undelivered lot', () => {
  const u = settings.undelivered; // half, at least 10 events
  it('alerts at the share, with enough events, naming where to look', () => {
    expect(undeliveredLot('P2', { delivered: 5, quarantined: 4, refused: 0 }, u)).toBeUndefined(); // 9 events
    expect(undeliveredLot('P2', { delivered: 6, quarantined: 4, refused: 1 }, u)).toBeUndefined(); // 45%
    expect(undeliveredLot('P2', { delivered: 5, quarantined: 4, refused: 1 }, u)?.reason).toBe(
      "5 of lot P2's 10 events in the last one to two hours were not delivered: 4 quarantined (why: `quarantine list`), " +
        '1 refused by ISP (why: `replay --list --lot P2`). Fix the data at the vendor or the mapping, then ' +
        '`quarantine retry` / `replay`. It clears when less than 50% of its events fail',
    );
  });
});

describe('vendor clock, read lag, delivery latency', () => {
  const now = t('2026-12-07T10:00');
  it('vendor clock beyond the bound, either way', () => {
    expect(vendorClockSkew({ skewSeconds: 120, at: now }, ZONE, 120)).toBeUndefined();
    expect(vendorClockSkew({ skewSeconds: -121, at: now }, ZONE, 120)?.reason).toContain(
      "the vendor database's clock is 2 min 1 s behind this host's (bound 2 min;",
    );
    expect(vendorClockSkew(null, ZONE, 120)).toBeUndefined();
  });
  it('read lag beyond the bound names the vendor clock behind and the departure gate', () => {
    const s = {
      stream: 'departures' as const,
      readUpTo: now - 601,
      recentLatencySeconds: null,
      oldestPending: null,
    };
    expect(readLag({ ...s, readUpTo: now - 600 }, now, ZONE, 600, null)).toBeUndefined();
    expect(readLag({ ...s, readUpTo: null }, now, ZONE, 600, null)).toBeUndefined();
    expect(readLag({ ...s, readUpTo: 0 }, now, ZONE, 600, null)).toBeUndefined(); // not started
    const reason = readLag(s, now, ZONE, 600, { skewSeconds: -700, at: now })?.reason ?? '';
    expect(reason).toContain(
      'departures has read the vendor only up to 2026-12-07 09:49:59, 10 min ago (bound 10 min)',
    );
    expect(reason).toContain("the vendor's clock is 12 min behind this host's");
    expect(reason).toContain('the departure gate');
  });
  it('delivery latency: the slowest recent delivery, or the oldest event still waiting', () => {
    const l = settings.deliveryLatency; // 10 min over 5 min
    const s = {
      stream: 'entrances' as const,
      readUpTo: now,
      recentLatencySeconds: 600,
      oldestPending: now - 600,
    };
    expect(deliveryLatency(s, now, ZONE, l)).toBeUndefined();
    expect(deliveryLatency({ ...s, recentLatencySeconds: 601 }, now, ZONE, l)?.reason).toContain(
      'entrances events take 10 min from their time to ISP (bound 10 min): the slowest delivery of the last 5 min took 10 min.',
    );
    expect(deliveryLatency({ ...s, oldestPending: now - 3_700 }, now, ZONE, l)?.reason).toContain(
      'entrances events take 62 min from their time to ISP (bound 10 min): an event of 2026-12-07 08:58:20 is still waiting',
    );
  });
  it('durations read as an operator reads them', () => {
    expect([40, 89, 90, 121, 300, 3_599, 7_199, 7_200, 7_260, 172_800].map(duration)).toEqual([
      '40 s',
      '89 s',
      '1 min 30 s',
      '2 min 1 s',
      '5 min',
      '60 min',
      '2 h',
      '2 h',
      '2 h 1 min',
      '2 days',
    ]);
  });
});

describe('transitions', () => {
  const alert = { alert: 'read-lag' as const, lot: '', stream: 'entrances', reason: 'behind' };
  it('fires once, refreshes the sentence while it holds, clears once', () => {
    const first = transitions(new Map(), [alert], 100);
    expect(first.notifications).toEqual([
      {
        event: 'fired',
        alert: 'read-lag',
        lot: '',
        stream: 'entrances',
        reason: 'behind',
        since: 100,
        at: 100,
      },
    ]);
    const active = new Map(first.active.map((a) => [a.id, a]));
    const still = transitions(active, [{ ...alert, reason: 'further behind' }], 130);
    expect(still.notifications).toEqual([]);
    expect(still.active).toEqual([{ ...first.active[0], reason: 'further behind', since: 100 }]);
    const cleared = transitions(new Map(still.active.map((a) => [a.id, a])), [], 160);
    expect(cleared.removed).toEqual(['read-lag||entrances']);
    expect(cleared.notifications).toEqual([
      {
        event: 'cleared',
        alert: 'read-lag',
        lot: '',
        stream: 'entrances',
        reason: 'further behind',
        since: 100,
        at: 160,
      },
    ]);
  });
});
