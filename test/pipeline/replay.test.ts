import { afterEach, describe, expect, it } from 'vitest';
import { tallyOf } from '../../src/pipeline/follow-jobs.js';
import {
  describeFailedJob,
  matchesFilter,
  queuesToSearch,
  ReplaySelectionError,
} from '../../src/pipeline/replay.js';
import { runCli } from '../helpers/cli.js';
import { expectedEvents } from '../helpers/expected.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('replay selection (pure)', () => {
  const eventJob = {
    id: 'entrances-a-b-rejected-7',
    name: 'entrances-rejected',
    finishedOn: 1_700_000_000_000,
    failedReason: 'plate rejected',
    data: {
      kind: 'events',
      stream: 'entrances',
      records: [{ key: 'k', time: 1, vendorKey: '7', lot: 'ATXL/1', payload: '{"park_code":"ATXL/1"}' }],
      isolated: { message: 'plate rejected', parked: true },
    },
  };
  const lotJob = {
    id: 'x-rejected-ATXL_2',
    name: 'parks-rejected',
    finishedOn: 1_700_000_100_000,
    data: {
      kind: 'state',
      stream: 'parks',
      isolated: { message: 'm', item: { code: 'ATXL/2', payload: {} } },
    },
  };

  it('describes event and lot jobs with their lots', () => {
    const e = describeFailedJob('push-entrances', eventJob);
    expect(e).toMatchObject({ kind: 'events', lots: ['ATXL/1'], records: 1, isolated: true, resend: false });
    // A lot job as enqueued before the kind was called `lots`.
    expect(describeFailedJob('push-parks', lotJob)).toMatchObject({
      kind: 'lots',
      lots: ['ATXL/2'],
      records: 1,
    });
    expect(describeFailedJob('full-sync', { id: '1', name: 'full-sync', data: {} }).kind).toBe('other');
    // A job enqueued before payloads travelled as text (kept in the failed set across an upgrade).
    const legacy = {
      ...eventJob,
      data: {
        ...eventJob.data,
        records: [{ key: 'k', time: 1, vendorKey: '7', draft: { park_code: 'ATXL/3' } }],
      },
    };
    expect(describeFailedJob('push-entrances', legacy)).toMatchObject({ kind: 'events', lots: ['ATXL/3'] });
  });

  it('filters by queue, job id, failure time (since inclusive, until exclusive) and lot', () => {
    const e = describeFailedJob('push-entrances', eventJob);
    const all = { queues: ['push-entrances'] };
    expect(matchesFilter(e, all)).toBe(true);
    expect(matchesFilter(e, { queues: ['push-departures'] })).toBe(false);
    expect(matchesFilter(e, { ...all, jobIds: ['other'] })).toBe(false);
    expect(matchesFilter(e, { ...all, jobIds: [e.id] })).toBe(true);
    expect(matchesFilter(e, { ...all, since: 1_700_000_000_000 })).toBe(true);
    expect(matchesFilter(e, { ...all, since: 1_700_000_000_001 })).toBe(false);
    expect(matchesFilter(e, { ...all, until: 1_700_000_000_000 })).toBe(false);
    expect(matchesFilter(e, { ...all, until: 1_700_000_000_001 })).toBe(true);
    expect(matchesFilter(e, { ...all, lot: 'ATXL/1' })).toBe(true);
    expect(matchesFilter(e, { ...all, lot: 'ATXL/2' })).toBe(false);
  });

  it('maps --queue/--stream to queues and refuses unknown names', () => {
    expect(queuesToSearch({})).toEqual([
      'push-parks',
      'push-spotNums',
      'push-entrances',
      'push-departures',
      'full-sync',
    ]);
    expect(queuesToSearch({ streams: ['entrances'], queues: ['poll-parks'] })).toEqual([
      'poll-parks',
      'push-entrances',
    ]);
    expect(() => queuesToSearch({ queues: ['push-cars'] })).toThrow(ReplaySelectionError);
    expect(() => queuesToSearch({ streams: ['cars'] })).toThrow(/unknown stream/);
  });

  it('tallies what followed jobs delivered', () => {
    const t = tallyOf(
      [
        {
          queue: 'q',
          id: '1',
          state: 'completed',
          result: { delivered: 2, skipped: 1, quarantined: 0, isolated: 1 },
        },
        { queue: 'q', id: '2', state: 'failed', reason: 'x' },
        { queue: 'q', id: '3', state: 'completed', result: { sent: 1 } },
      ],
      4,
    );
    expect(t).toEqual({
      jobs: { completed: 2, failed: 1, gone: 0, pending: 1 },
      delivered: 3,
      skipped: 1,
      quarantined: 0,
      isolated: 1,
    });
  });
});

describe('replay command', () => {
  it('re-sends rejected records exactly once, skips what ISP has, and re-sends with --force', async () => {
    harness = await startHarness({ seed: { lots: 3, visits: 60, photoRows: 8, days: 1 } });
    const h = harness;
    const expected = await expectedEvents(h.db.admin, 'visit-table');
    // Three entrances whose plate is unique, so a reject rule on the plate hits exactly one record.
    const plateCount = new Map<string, number>();
    for (const e of expected.entrances) {
      const p = String(e.fields.plate_number);
      plateCount.set(p, (plateCount.get(p) ?? 0) + 1);
    }
    const victims = expected.entrances
      .filter((e) => plateCount.get(String(e.fields.plate_number)) === 1)
      .slice(0, 3);
    expect(victims).toHaveLength(3);
    h.sim.patchFaults({
      rejectRules: victims.map((v) => ({
        kind: 'entrance' as const,
        field: 'plate_number',
        equals: String(v.fields.plate_number),
        message: `no such plate ${v.fields.plate_number}`,
      })),
    });
    await h.start();

    const queue = h.rt.queues.push.entrances;
    await waitFor(
      'the three rejected entrances in the failed set, all others delivered',
      async () =>
        (await queue.getFailedCount()) === 3 &&
        h.sim.state.store.count('entrance') === expected.entrances.length - 3,
      60_000,
    );
    const failed = await queue.getFailed();
    const jobOf = (plate: unknown) =>
      failed.find(
        (j) =>
          JSON.parse((j.data as { records: Array<{ payload: string }> }).records[0]!.payload).plate_number ===
          plate,
      )!;
    const [j1, j2, j3] = victims.map((v) => jobOf(v.fields.plate_number));
    expect(j1 && j2 && j3).toBeTruthy();
    expect(j1!.failedReason).toContain('no such plate');
    h.sim.patchFaults({ rejectRules: [] });

    const env = h.childEnv();
    const countOf = (key: string) =>
      h.sim.state.received('entrance', 0, 1_000_000).filter((e) => {
        const r = e.record as Record<string, unknown>;
        return `${r.park_code}|${r.plate_number}|${r.enter_time}` === key;
      }).length;

    // No terminal and no --yes: shows what matches, refuses, changes nothing.
    const refused = await runCli(['replay', '--lot', String(victims[0]!.fields.park_code)], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(j1!.id);
    expect(refused.stderr).toMatch(/without confirmation.*--yes/);
    const none = await runCli(['replay', '--yes', '--until', '2001-01-01T00:00'], env);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toContain('no failed jobs match');
    expect(await queue.getFailedCount()).toBe(3);

    // By job id: delivered once.
    const one = await runCli(['replay', '--job', String(j1!.id), '--yes', '--wait'], env);
    expect(one.code, one.stderr + one.stdout).toBe(0);
    expect(one.stdout).toContain('replayed 1 job');
    expect(one.stdout).toContain('records delivered 1,');
    expect(countOf(victims[0]!.key)).toBe(1);

    // The other two reach ISP by a backfill (the ledger skips everything else), while their
    // failed jobs stay in the failed set.
    const times = expected.entrances.map((e) => Number(e.fields.enter_time));
    const backfill = await runCli(
      [
        'backfill',
        'entrances',
        '--from',
        new Date((Math.min(...times) - 1) * 1000).toISOString(),
        '--to',
        new Date((Math.max(...times) + 1) * 1000).toISOString(),
        '--wait',
      ],
      env,
    );
    expect(backfill.code, backfill.stderr + backfill.stdout).toBe(0);
    expect(backfill.stdout).toContain(
      `enqueued 2 (in 1 jobs), already delivered ${expected.entrances.length - 2}`,
    );
    await waitFor(
      'both delivered by the backfill',
      () => countOf(victims[1]!.key) + countOf(victims[2]!.key) === 2,
    );

    // Replayed without --force: the ledger has the record, nothing is sent.
    const skipped = await runCli(['replay', '--job', String(j2!.id), '--yes', '--wait'], env);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toContain('records delivered 0, already delivered (skipped) 1');
    expect(countOf(victims[1]!.key)).toBe(1);

    // All that is left, with --force: sent again although ISP has it.
    const forced = await runCli(['replay', '--stream', 'entrances', '--yes', '--force', '--wait'], env);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('replayed 1 job');
    expect(forced.stdout).toContain('records delivered 1,');
    expect(countOf(victims[2]!.key)).toBe(2);

    // Everything else exactly once; the failed set is empty.
    expect(await queue.getFailedCount()).toBe(0);
    for (const e of expected.entrances) {
      expect(countOf(e.key), e.key).toBe(e.key === victims[2]!.key ? 2 : 1);
    }
    expect(h.sim.state.store.count('entrance')).toBe(expected.entrances.length + 1);
  }, 120_000);
});
