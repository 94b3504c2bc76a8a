/**
 * `replay` as an operator meets it about a car: failed jobs selected by plate, lot and event time,
 * listed whole (ISP's whole reason, every row, JSON), and discarded only on purpose: with a reason,
 * into an audit kept in Redis, with a log line. Failed jobs are kept with no bound and carry no photo.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DiscardAudit } from '../../src/state/discard-audit.js';
import { runCli } from '../helpers/cli.js';
import { expectedEvents } from '../helpers/expected.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const LONG_REASON =
  'plate not registered with the city traffic bureau; ask the lot operator to register it at the ' +
  'counter and send the registration number with the next upload (reference 4711-XYZ)';

describe('replay: select by car, list whole, discard with an audit', () => {
  it('keeps failed jobs without photos or bounds, lists and selects them, and discards only with a reason', async () => {
    harness = await startHarness({ seed: { lots: 3, visits: 60, photoRows: 30, days: 1 } });
    const h = harness;
    const expected = await expectedEvents(h.db.admin, 'visit-table');
    const plateCount = new Map<string, number>();
    for (const e of expected.entrances) {
      const p = String(e.fields.plate_number);
      plateCount.set(p, (plateCount.get(p) ?? 0) + 1);
    }
    const unique = expected.entrances.filter((e) => plateCount.get(String(e.fields.plate_number)) === 1);
    // Four victims, at least one with a photo at the vendor.
    const victims = [
      ...unique.filter((e) => e.photo).slice(0, 2),
      ...unique.filter((e) => !e.photo).slice(0, 2),
    ];
    expect(victims).toHaveLength(4);
    expect(victims.some((v) => v.photo)).toBe(true);
    h.sim.patchFaults({
      rejectRules: victims.map((v) => ({
        kind: 'entrance' as const,
        field: 'plate_number',
        equals: String(v.fields.plate_number),
        message: LONG_REASON,
      })),
    });
    await h.start();
    const queue = h.rt.queues.push.entrances;
    await waitFor(
      'the four rejected entrances in the failed set, all others delivered',
      async () =>
        (await queue.getFailedCount()) === 4 &&
        h.sim.state.store.count('entrance') === expected.entrances.length - 4,
      60_000,
    );

    // Kept without any age or count bound, and without photo bytes (payloads only).
    for (const job of await queue.getFailed()) {
      expect(job.opts.removeOnFail, String(job.id)).toBe(false);
      const text = JSON.stringify(job.data);
      expect(text).not.toContain('data:image');
      expect(text).not.toMatch(/enter_pic|depart_pic/);
    }

    const env = h.childEnv();
    // --list --json: every job, ISP's whole reason, plates and event times.
    const listed = await runCli(['replay', '--list', '--json'], env);
    expect(listed.code, listed.stderr).toBe(0);
    const json = JSON.parse(listed.stdout) as {
      total: number;
      jobs: Array<{ id: string; reason: string; plates: string[]; keys: string[] }>;
    };
    expect(json.total).toBe(4);
    expect(json.jobs.every((j) => j.reason.includes(LONG_REASON))).toBe(true);
    expect(json.jobs.flatMap((j) => j.plates).sort()).toEqual(
      victims.map((v) => String(v.fields.plate_number)).sort(),
    );
    // The text list pages: one row, and where to go on.
    const paged = await runCli(['replay', '--list', '--limit', '1', '--offset', '1'], env);
    expect(paged.code, paged.stderr).toBe(0);
    expect(paged.stdout).toContain(LONG_REASON);
    expect(paged.stdout).toContain('rows 2-2 of 4; next: --offset 2');

    // Selected by plate, and by lot plus event time range.
    const victim = victims[0]!;
    const plate = String(victim.fields.plate_number);
    const byPlate = JSON.parse((await runCli(['replay', '--list', '--json', '--plate', plate], env)).stdout);
    expect(byPlate.total).toBe(1);
    expect(byPlate.jobs[0].keys).toEqual([victim.key]);
    const t = Number(victim.fields.enter_time);
    const iso = (s: number) => new Date(s * 1000).toISOString();
    const byTime = JSON.parse(
      (
        await runCli(
          [
            'replay',
            '--list',
            '--json',
            '--lot',
            String(victim.fields.park_code),
            '--from',
            iso(t),
            '--to',
            iso(t + 1),
          ],
          env,
        )
      ).stdout,
    );
    expect(byTime.jobs.map((j: { id: string }) => j.id)).toContain(byPlate.jobs[0].id);

    // A bad flag value names the flag.
    const bad = await runCli(['replay', '--list', '--limit', 'abc'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--limit');

    // Discard without a reason: refused, nothing removed.
    const noReason = await runCli(['replay', '--discard', '--plate', plate, '--yes'], env);
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toContain('--reason');
    expect(await queue.getFailedCount()).toBe(4);

    // Discard with a reason: the job goes, the audit and the log keep it.
    const discarded = await runCli(
      ['replay', '--discard', '--plate', plate, '--reason', 'car of a test run, never real', '--yes'],
      env,
    );
    expect(discarded.code, discarded.stderr).toBe(0);
    expect(discarded.stdout).toContain('discarded 1 job');
    expect(await queue.getFailedCount()).toBe(3);
    expect(discarded.stderr).toContain('failed job discarded by an operator');
    expect(discarded.stderr).toContain(victim.key);
    const audit = await new DiscardAudit(h.rt.redis, h.config.redis.prefix).list();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      queue: 'push-entrances',
      jobId: byPlate.jobs[0].id,
      keys: [victim.key],
      lots: [String(victim.fields.park_code)],
      reason: 'car of a test run, never real',
    });
    expect(audit[0]!.ispReason).toContain(LONG_REASON);
    expect(Math.abs(audit[0]!.at - Date.now())).toBeLessThan(60_000);
    const shown = await runCli(['replay', '--audit'], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('car of a test run, never real');
    expect(shown.stdout).toContain(victim.key);

    // Nothing of it went to ISP; the other three are still there to replay.
    expect(h.sim.state.store.count('entrance')).toBe(expected.entrances.length - 4);
  }, 120_000);
});
