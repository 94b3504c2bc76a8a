/**
 * Chaos scenario 4: the vendor MariaDB restarted under a running poller. A private mariadbd (own
 * datadir and port) holds the demo database; it is shut down (SIGTERM), left down a few seconds and
 * started again on the same datadir and port. The poller must recover by itself (its pool drops
 * dead connections), and every event must reach ISP exactly once: reads that failed moved no
 * checkpoint, and pushes that could not fetch their photos sent nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, type PrivateMariadb, startPrivateMariadb } from '../helpers/processes.js';
import { type Chaos, startChaos } from './harness.js';

const DOWN_MS = 4_000;

let chaos: Chaos | undefined;
let mariadb: PrivateMariadb | undefined;
afterEach(async () => {
  await killAll();
  await chaos?.close();
  await mariadb?.close();
  chaos = undefined;
  mariadb = undefined;
});

describe('MariaDB restarted under a running poller', () => {
  it('recovers by itself and delivers every event exactly once', async () => {
    const bootAt = Date.now();
    mariadb = await startPrivateMariadb();
    const bootMs = Date.now() - bootAt;
    chaos = await startChaos({
      style: 'visit-table',
      seed: { lots: 6, visits: 300, photoRows: 60, days: 1, seed: 41 },
      // Slow enough that a backlog of pushes (which fetch their photos from the vendor) is still
      // waiting when the server goes down.
      faults: { latencyMs: 400 },
      mysqlServerUrl: mariadb.url,
      config: { isp: { batch: { maxItems: 10 } } },
    });
    const c = chaos;
    const m = mariadb;
    const worker = await c.spawnWorker('worker');

    const before = await c.traffic({ ratePerSecond: 15, durationMs: 4_000, seed: 1 });
    await before.done;
    const deliveredBefore = stored(c);
    const stoppedAt = Date.now();
    await m.stop();
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    const restartAt = Date.now();
    await m.start();
    const upAt = Date.now();
    const after = await c.traffic({ ratePerSecond: 15, durationMs: 4_000, seed: 2 });
    const afterReport = await after.done;
    expect(afterReport.counts.entrances).toBeGreaterThan(0);

    const expected = await c.expected();
    const delivery = await c.waitDelivered(expected, 90_000);
    // When the first event written after the restart reached ISP: the poller was back.
    const newKeys = new Set(afterReport.entrances.map((e) => `${e.parkCode}|${e.plateNumber}|${e.epoch}`));
    const firstNew = Math.min(
      ...c.sim.state
        .received('entrance', 0, 1e7)
        .filter((e) => newKeys.has(e.key))
        .map((e) => e.receivedAt),
    );
    const failed = worker.lines().filter((l) => l.includes('"job failed"'));
    // An unreachable server is logged once per attempt (reachability.ts), not as a failed poll job.
    const pollFailures =
      failed.filter((l) => l.includes('"queue":"poll-')).length +
      worker.lines().filter((l) => l.includes('"service":"vendor"') && l.includes('"attempt"')).length;
    const pushFailures = failed.filter((l) => l.includes('"queue":"push-')).length;
    const duplicates = delivery.entrances.duplicates + delivery.departures.duplicates;
    console.info(
      `[chaos mysql-restart] private mariadbd install+start ${(bootMs / 1000).toFixed(1)} s, restart ` +
        `${((upAt - restartAt) / 1000).toFixed(1)} s; events: ${delivery.entrances.expected} entrances, ` +
        `${delivery.departures.expected} departures (${deliveredBefore} at ISP before the stop); down ` +
        `${((restartAt - stoppedAt) / 1000).toFixed(1)} s; failed attempts: ${pollFailures} polls, ` +
        `${pushFailures} pushes; first event written after the restart at ISP ` +
        `${((firstNew - upAt) / 1000).toFixed(1)} s after it; duplicates ${duplicates}`,
    );

    for (const stream of [delivery.entrances, delivery.departures]) {
      expect(stream.missing).toEqual([]);
      expect(stream.duplicateKeys).toEqual([]);
      expect(stream.unexpected).toEqual([]);
      expect(stream.mismatches).toEqual([]);
    }
    // The outage was real for the worker (its reads failed), and it needed no restart.
    expect(pollFailures).toBeGreaterThan(0);
    expect(Number.isFinite(firstNew)).toBe(true);
    expect(worker.running()).toBe(true);
    expect(await c.failedPushJobs()).toEqual([]);
  }, 170_000);
});

function stored(c: Chaos): number {
  return c.sim.state.store.count('entrance') + c.sim.state.store.count('departure');
}
