/**
 * What the lot health alerts learn at delivery (real Redis, through the activity store's one call
 * per batch) and keep: the longest silence per lot and hour of the week, when a count last changed,
 * outcomes per lot and hour, latency per minute, and the alert state.
 */
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityStore } from '../../src/state/activity.js';
import { healthKeys, hourOfWeek, LotHealthStore } from '../../src/state/lot-health.js';
import { createTestRedis, type TestRedis } from '../helpers/services.js';

const ZONE = 'Asia/Shanghai';
const OFFSET = 8 * 3600;
const t = (iso: string) => DateTime.fromISO(iso, { zone: ZONE }).toSeconds();

describe('lot health store (real Redis)', () => {
  let redis: TestRedis;
  let activity: ActivityStore;
  let health: LotHealthStore;
  beforeAll(async () => {
    redis = await createTestRedis('lothealth');
    activity = new ActivityStore(redis.client, redis.prefix);
    health = new LotHealthStore(redis.client, redis.prefix);
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  /** Entrances of `lot` at `times`, delivered in one batch as the bookkeeping sends them. */
  const deliver = (lot: string, times: number[], zoneOffsetSeconds = OFFSET) =>
    activity.recordDelivered(
      'entrances',
      times.length,
      {
        field: 'lastEntrance',
        times: new Map([[lot, Math.max(...times)]]),
        firstTimes: new Map([[lot, Math.min(...times)]]),
        counts: new Map([[lot, times.length]]),
        zoneOffsetSeconds,
      },
      Math.max(...times) * 1000 + 2_000,
    );
  const gaps = async (lot: string) => {
    const all = await redis.client.hgetall(healthKeys(redis.prefix).lotBase + lot);
    return Object.fromEntries(Object.entries(all).filter(([k]) => /^g\d+$/.test(k)));
  };
  const slot = (iso: string) => hourOfWeek(t(iso), OFFSET);

  it('learns each silence in the hour of the week it began, the longest one per hour', async () => {
    await deliver('A', [t('2026-11-30T09:00'), t('2026-11-30T09:03')]); // Monday, first events: nothing to learn
    expect(await gaps('A')).toEqual({});
    await deliver('A', [t('2026-11-30T09:13')]); // 10 min after 09:03
    await deliver('A', [t('2026-11-30T09:15'), t('2026-11-30T09:40')]); // 2 min: shorter, kept 10
    expect((await gaps('A')).g9).toBe(`600,${slot('2026-11-30T09:00').week}`);
    await deliver('A', [t('2026-11-30T22:10')]); // 12.5 h after 09:40, begun in the same hour: longer
    await deliver('A', [t('2026-12-01T07:00')]); // the night, begun Monday 22:00
    const s9 = slot('2026-11-30T09:00');
    const s22 = slot('2026-11-30T22:00');
    expect(s9.slot).toBe(9);
    expect(s22.slot).toBe(22);
    expect(await gaps('A')).toEqual({
      g9: `${t('2026-11-30T22:10') - t('2026-11-30T09:40')},${s9.week}`,
      g22: `${t('2026-12-01T07:00') - t('2026-11-30T22:10')},${s22.week}`,
    });
    // An earlier batch finishing late (out of order) teaches nothing and moves nothing back.
    await deliver('A', [t('2026-11-30T23:00')]);
    const [lot] = await health.lots(() => OFFSET);
    expect(lot).toMatchObject({ parkCode: 'A', lastEvent: t('2026-12-01T07:00'), eventsSinceCount: 8 });
    // The facts carry the gap of the hour its current silence began in: none began Tuesdays at 07:00 yet.
    expect(lot!.usualGap).toBeUndefined();
    await deliver('A', [t('2026-12-07T22:30')]);
    const [again] = await health.lots(() => OFFSET);
    expect(again!.usualGap).toEqual({
      seconds: t('2026-12-01T07:00') - t('2026-11-30T22:10'),
      week: s22.week,
    });
  });

  it('keeps a gap for a week, then halves it each week unseen, so a newer shorter one can replace it', async () => {
    await deliver('B', [t('2026-11-30T10:00')]);
    await deliver('B', [t('2026-11-30T12:00')]); // 2 h begun Monday 10:00
    await deliver('B', [t('2026-12-07T10:00')]);
    await deliver('B', [t('2026-12-07T11:30')]); // next week: 90 min < 2 h, the 2 h stays
    expect((await gaps('B')).g10).toBe(`7200,${slot('2026-11-30T10:00').week}`);
    await deliver('B', [t('2026-12-21T10:00')]);
    await deliver('B', [t('2026-12-21T11:00')]); // 3 weeks on: 2 h counts as 30 min; 60 min replaces it
    expect((await gaps('B')).g10).toBe(`3600,${slot('2026-12-21T10:00').week}`);
  });

  it('uses the vendor zone’s hours: the same instant in another zone is another hour of the week', async () => {
    const newYork = -5 * 3600;
    await deliver('C', [t('2026-11-30T09:00')], newYork);
    await deliver('C', [t('2026-11-30T09:05')], newYork);
    // 09:00 in Shanghai is Sunday 20:00 in New York.
    expect(Object.keys(await gaps('C'))).toEqual([`g${6 * 24 + 20}`]);
  });

  it('notes when a count’s values changed, not when the same values were sent again', async () => {
    const count = (remain: number, at: number) =>
      activity.recordDelivered(
        'spotNums',
        1,
        {
          spotNums: [
            { park_code: 'D', total_spots_num: 50, remain_spots_num: remain, used_spots_num: 50 - remain },
          ],
        },
        at * 1000,
      );
    await count(10, 1_000);
    await deliver('D', [1_100, 1_200, 1_300]);
    await count(10, 5_000);
    let [d] = (await health.lots(() => OFFSET)).filter((l) => l.parkCode === 'D');
    expect(d).toMatchObject({ count: { values: '50/10/40', changedAt: 1_000 }, eventsSinceCount: 3 });
    await count(9, 6_000);
    [d] = (await health.lots(() => OFFSET)).filter((l) => l.parkCode === 'D');
    expect(d).toMatchObject({ count: { values: '50/9/41', changedAt: 6_000 }, eventsSinceCount: 0 });
  });

  it('counts outcomes per lot for the current and the previous clock hour only', async () => {
    const hour = 3_600_000;
    const base = Math.floor(Date.UTC(2026, 11, 7, 2) / hour) * hour;
    await health.countOutcome('E', 'quarantined', base - hour - 1); // two hours ago: out
    await health.countOutcome('E', 'quarantined', base - 10);
    await health.countOutcome('E', 'refused', base + 10);
    await activity.recordDelivered(
      'entrances',
      4,
      {
        field: 'lastEntrance',
        times: new Map([['E', 100]]),
        firstTimes: new Map([['E', 90]]),
        counts: new Map([['E', 4]]),
      },
      base + 20,
    );
    expect((await health.outcomes(base + 30)).get('E')).toEqual({ delivered: 4, quarantined: 1, refused: 1 });
    expect((await health.outcomes(base + hour + 30)).get('E')).toEqual({
      delivered: 4,
      quarantined: 0,
      refused: 1,
    });
    expect(await redis.client.ttl(healthKeys(redis.prefix).outcomes(base / hour))).toBeGreaterThan(
      3 * 3600 - 10,
    );
  });

  it('keeps the largest live latency per minute', async () => {
    const m = Date.UTC(2026, 11, 7, 2, 30);
    const live = (latencySeconds: number, at: number) =>
      activity.recordDelivered('departures', 1, { latencySeconds }, at);
    await live(12.4, m);
    await live(40, m + 10_000);
    await live(7, m + 20_000);
    await live(3, m + 60_000);
    await activity.recordDelivered('departures', 1, {}, m + 61_000); // not live: no latency
    expect(await health.maxLatency('departures', m, m + 120_000)).toBe(40);
    expect(await health.maxLatency('departures', m + 60_000, m + 120_000)).toBe(3);
    expect(await health.maxLatency('departures', m + 120_000, m + 180_000)).toBeUndefined();
    expect(await health.maxLatency('entrances', m, m + 120_000)).toBeUndefined();
  });

  it('commits the active alerts and their notifications together; the outbox is worked off in order', async () => {
    const alert = (id: string) => ({ id, alert: 'read-lag', lot: '', stream: id, reason: 'r', since: 1 });
    const note = (stream: string) => ({
      event: 'fired' as const,
      alert: 'read-lag',
      lot: '',
      stream,
      reason: 'r',
      since: 1,
      at: 1,
    });
    await health.commit([alert('a'), alert('b')], [], [note('a'), note('b')]);
    await health.commit([alert('b')], ['a'], [{ ...note('a'), event: 'cleared' }]);
    expect([...(await health.active()).keys()]).toEqual(['b']);
    expect((await health.outbox()).map((n) => `${n.event} ${n.stream}`)).toEqual([
      'fired a',
      'fired b',
      'cleared a',
    ]);
    await health.shiftOutbox(2);
    expect((await health.outbox()).map((n) => `${n.event} ${n.stream}`)).toEqual(['cleared a']);
    await health.countSent(7, 60);
    await health.countSent(7, 60);
    expect(await health.sentInWindow(7)).toBe(2);
    expect(await health.sentInWindow(8)).toBe(0);
  });
});
