/**
 * The nightly full sync: scheduled at 01:00 Asia/Shanghai whatever the host's TZ, and when run it
 * pushes every lot and spot count again and deletes lots that vanished (hard-deleted rows and
 * soft-delete flags) exactly once.
 */
import { DateTime } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { nextFullSync, upsertSchedules } from '../../src/pipeline/schedules.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

let harness: Harness | undefined;
const originalTz = process.env.TZ;
afterEach(async () => {
  process.env.TZ = originalTz;
  await harness?.close();
  harness = undefined;
});

describe('nightly full sync', () => {
  it.each(['UTC', 'America/New_York', 'Asia/Kolkata'])(
    'is scheduled for 01:00 Asia/Shanghai with TZ=%s',
    async (tz) => {
      process.env.TZ = tz;
      // The process really runs in that zone (Node applies a changed TZ at once).
      expect(-new Date(2026, 0, 1).getTimezoneOffset() + 0).toBe(
        DateTime.fromObject({ year: 2026 }, { zone: tz }).offset + 0,
      );
      harness = await startHarness({ seed: false });
      await upsertSchedules(harness.config, harness.rt.queues);
      const next = await nextFullSync(harness.rt.queues);
      expect(next).toBeDefined();
      const at = DateTime.fromMillis(next!, { zone: 'Asia/Shanghai' });
      expect(at.toFormat('HH:mm:ss')).toBe('01:00:00');
      expect(next! - Date.now()).toBeGreaterThan(0);
      expect(next! - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
    },
  );

  it('pushes every lot and count, and deletes vanished lots once (manual full sync)', async () => {
    harness = await startHarness({
      style: 'entry-exit',
      seed: { lots: 6, visits: 30, photos: false, deletedLots: 1 },
      // 2 of 5 lots go at once: above the default guard share; no grace, to see the DELETE now.
      config: { streams: { parks: { deleteGraceSeconds: 0, maxDeleteShare: 0.5 } } },
    });
    const h = harness;
    await h.start();
    const [live] = (await h.db.admin.query(
      'SELECT code FROM t_park WHERE is_deleted = 0 ORDER BY code',
    )) as unknown as [Array<{ code: string }>];
    await waitFor('lots delivered', () => h.sim.state.store.count('park') >= live.length);
    const firstParks = h.sim.state.store.count('park');
    expect(
      new Set(h.sim.state.received('park', 0, 1e6).map((p) => (p.record as { park_code: string }).park_code)),
    ).toEqual(new Set(live.map((l) => l.code)));
    // Soft-deleted from the start: never delivered, so nothing to delete.
    expect(h.sim.state.store.count('park-deletion')).toBe(0);

    // The legacy system removes one lot and flags another as deleted.
    const [gone, flagged] = [live[0]!.code, live[1]!.code];
    await h.db.admin.query('DELETE FROM t_park_space WHERE park_code = ?', [gone]);
    await h.db.admin.query('DELETE FROM t_park WHERE code = ?', [gone]);
    await h.db.admin.query('UPDATE t_park SET is_deleted = 1 WHERE code = ?', [flagged]);

    await h.rt.queues.fullSync.add('full-sync', { reason: 'test' });
    const deletedCodes = () =>
      h.sim.state
        .received('park-deletion', 0, 1e6)
        .flatMap((d) => String((d.record as { park_code: string }).park_code).split(','))
        .sort();
    // The regular parks poll may see the change before the full sync does: either sends the DELETE.
    await waitFor('deletions delivered', () => deletedCodes().length >= 2, 30_000);
    await waitFor(
      'every remaining lot pushed again',
      () => h.sim.state.store.count('park') >= firstParks + live.length - 2,
    );
    expect(deletedCodes()).toEqual([gone, flagged].sort());
    const deletionRequests = h.sim.state.store.count('park-deletion');

    // A second full sync deletes nothing again.
    await h.rt.queues.fullSync.add('full-sync', { reason: 'test-again' });
    await waitFor(
      'the second full sync',
      () => h.sim.state.store.count('park') >= firstParks + 2 * (live.length - 2),
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(h.sim.state.store.count('park-deletion')).toBe(deletionRequests);
    expect(deletedCodes()).toEqual([gone, flagged].sort());
    const spot = h.sim.state
      .received('spot-num', 0, 1e6)
      .map((s) => (s.record as { park_code: string }).park_code);
    expect(new Set(spot)).toEqual(new Set(live.map((l) => l.code)));
  }, 90_000);
});
