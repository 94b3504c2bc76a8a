/**
 * The low-latency mode (src/pipeline/events/sweep.ts) on real parts: traffic with many late
 * commits (transactions held open, their rows stamped in the past) while the live polls read
 * without the commit-lag bound. Every event reaches the simulator exactly once, no departure
 * before its entrance, and the late rows come from the sweep.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatStatus } from '../../src/cli/status.js';
import { probedLateRows, sweptLateRows } from '../../src/metrics.js';
import { collectStatus } from '../../src/pipeline/status.js';
import { startTraffic } from '../../src/sim/demo-vendor/index.js';
import { deliveredExactlyOnce } from '../helpers/delivery.js';
import { type Harness, startHarness } from '../helpers/pipeline.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const SEED = { lots: 4, visits: 300, photoRows: 0, photos: false, days: 1 };
/**
 * Late transactions stay open up to 1.2 s with rows stamped 1 s early (whole seconds: up to 2 s
 * early), so they commit up to 3.2 s after their stamp: under the commit lag of 4 s.
 */
const LATE = { lateRatio: 0.25, lateConcurrency: 6, holdMs: 1_200, backdateMs: 1_000 };

function config(entrances: string, departures: string) {
  return {
    vendor: { commitLagSeconds: 4 },
    streams: {
      entrances: { mode: entrances, photo: null, pageSize: 200 },
      departures: { mode: departures, photo: null, pageSize: 200 },
    },
  };
}

async function lateTraffic(h: Harness, seed: number) {
  const traffic = await startTraffic(h.db.url, h.style, {
    ratePerSecond: 60,
    durationMs: 5_000,
    photos: false,
    seed,
    ...LATE,
  });
  return traffic.done;
}

describe('low-latency mode', () => {
  it.each([
    ['low-latency', 'low-latency'],
    ['low-latency', 'guarded'],
  ])(
    'entrances %s, departures %s: late commits delivered once, in order',
    async (entrances, departures) => {
      harness = await startHarness({
        seed: SEED,
        strict: { knownLots: true },
        config: config(entrances, departures),
      });
      const h = harness;
      const before = await sweptLate('entrances');
      await h.start();
      const report = await lateTraffic(h, 5);
      const late = [...report.entrances, ...report.departures].filter((e) => e.late);
      expect(report.counts.errors, report.errors.join('; ')).toBe(0);
      // Late rows behind the live cursor: stamped before rows committed earlier than them.
      expect(late.length).toBeGreaterThan(20);

      await deliveredExactlyOnce(h, 60_000);
      // The late entrances came from the sweep: the live read passed them before they committed.
      expect((await sweptLate('entrances')) - before).toBeGreaterThan(0);
      const swept = await h.rt.progress.sweptUpTo('entrances');
      expect(swept).toBeGreaterThan(Date.now() / 1000 - 60);
      // Streams that do not probe show no id gaps.
      expect((await collectStatus(h.rt)).streams.map((s) => s.idGaps)).toEqual([null, null, null, null]);
    },
    120_000,
  );

  it('rows committed in time are read live, not left to the sweep (departures: UPDATEs of rows in no id order)', async () => {
    harness = await startHarness({
      seed: SEED,
      strict: { knownLots: true },
      config: config('low-latency', 'low-latency'),
    });
    const h = harness;
    const before = { entrances: await sweptLate('entrances'), departures: await sweptLate('departures') };
    await h.start();
    const traffic = await startTraffic(h.db.url, h.style, {
      ratePerSecond: 80,
      durationMs: 5_000,
      photos: false,
      seed: 9,
      lateRatio: 0,
    });
    const report = await traffic.done;
    expect(report.counts.errors, report.errors.join('; ')).toBe(0);
    expect(report.departures.length).toBeGreaterThan(80);
    await deliveredExactlyOnce(h, 60_000);
    // With no late transaction, the sweep has nothing to find. Read at once, a departure committed
    // after the live read had passed its second (a lower id than a row read) went to the sweep:
    // with `vendor.liveLagMs: 0`, 119 of 168 did.
    const swept = (await sweptLate('departures')) - before.departures;
    expect(
      swept,
      `${swept} of ${report.departures.length} departures came from the sweep`,
    ).toBeLessThanOrEqual(Math.ceil(report.departures.length * 0.03));
    expect((await sweptLate('entrances')) - before.entrances).toBeLessThanOrEqual(
      Math.ceil(report.entrances.length * 0.03),
    );
  }, 120_000);

  it('entry and exit tables with probeIdGaps: late rows found at the ids the live read skipped, delivered once', async () => {
    harness = await startHarness({
      style: 'entry-exit',
      seed: SEED,
      strict: { knownLots: true },
      config: {
        vendor: { commitLagSeconds: 4 },
        streams: {
          entrances: { mode: 'low-latency', probeIdGaps: true, photo: null, pageSize: 200 },
          departures: { mode: 'low-latency', probeIdGaps: true, photo: null, pageSize: 200 },
        },
      },
    });
    const h = harness;
    const before = {
      probed: await probedLate(),
      swept: (await sweptLate('entrances')) + (await sweptLate('departures')),
    };
    await h.start();
    const report = await lateTraffic(h, 7);
    expect(report.counts.errors, report.errors.join('; ')).toBe(0);
    const late = [...report.entrances, ...report.departures].filter((e) => e.late);
    expect(late.length).toBeGreaterThan(20);
    await deliveredExactlyOnce(h, 60_000);
    const probed = (await probedLate()) - before.probed;
    const swept = (await sweptLate('entrances')) + (await sweptLate('departures')) - before.swept;
    // The probe finds a late row a poll after its commit; the sweep only what the probe could not.
    expect(probed, `${probed} probed, ${swept} swept of ${late.length} late`).toBeGreaterThan(
      late.length * 0.5,
    );
    expect(swept).toBeLessThan(probed);
    expect((await h.rt.idGaps.entrances.summary()).open).toBeLessThan(50);
    // The status (and the `status` command's text) shows each probing stream's open gaps as the
    // probe keeps them; the workers stopped, so that no poll moves them in between.
    await h.stopWorkers();
    const status = await collectStatus(h.rt);
    const text = formatStatus(status, h.rt.config.vendor.timeZone);
    for (const stream of ['entrances', 'departures'] as const) {
      const { open } = await h.rt.idGaps[stream].summary();
      expect(status.streams.find((s) => s.stream === stream)!.idGaps?.open, stream).toBe(open);
      expect(text).toContain(`id gaps ${stream}: ${open} open`);
    }
  }, 120_000);
});

async function probedLate(): Promise<number> {
  const metric = await probedLateRows.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

async function sweptLate(stream: string): Promise<number> {
  const metric = await sweptLateRows.get();
  return metric.values.filter((v) => v.labels.stream === stream).reduce((sum, v) => sum + v.value, 0);
}
