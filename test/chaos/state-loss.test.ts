/**
 * Redis losing the worker's state under a running worker, and a job scheduler deleted by hand.
 * A loss (a FLUSHALL; a restart of a Redis without persistence) must be detected, not guessed
 * around: /readyz fails with the reason and the way out, polling stops (nothing is re-sent, new
 * rows wait), and after `resume --from` every event reaches ISP exactly once. A deleted scheduler
 * is reported by /readyz and re-created by the worker itself. The state check runs every
 * second here (`pipeline.stateCheckEveryMs`, a minute by default); detection times are printed.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { pollSchedulerId } from '../../src/pipeline/schedules.js';
import { runCli } from '../helpers/cli.js';
import { killAll, type PrivateRedis, startPrivateRedis } from '../helpers/processes.js';
import { type Chaos, dashboardUrl, startChaos } from './harness.js';

let chaos: Chaos | undefined;
let redis: PrivateRedis | undefined;
afterEach(async () => {
  await killAll();
  await chaos?.close();
  await redis?.close();
  chaos = undefined;
  redis = undefined;
});

const NO_PHOTOS = { entrances: { photo: null }, departures: { photo: null } };

interface Ready {
  status: number;
  body: { ok: boolean; checks: Record<string, { ok: boolean; message?: string }> };
}

async function readyz(url: string): Promise<Ready> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as Ready['body'] };
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const received = (c: Chaos) => c.sim.state.store.count('entrance') + c.sim.state.store.count('departure');

describe.each([
  ['flushed (FLUSHALL)', 'flush'],
  ['restarted without persistence', 'restart'],
] as const)('Redis %s under a running worker', (_name, how) => {
  it('is detected, stops polling, and after resume --from every event arrives exactly once', async () => {
    redis = await startPrivateRedis({ persistent: false });
    chaos = await startChaos({
      seed: { lots: 4, visits: 120, photoRows: 0, days: 1, seed: 41 },
      redisUrl: redis.url,
      config: { pipeline: { stateCheckEveryMs: 1_000 }, streams: NO_PHOTOS },
    });
    const c = chaos;
    const r = redis;
    const worker = await c.spawnWorker('worker', { args: [] });
    const url = await dashboardUrl(worker);
    await c.waitDelivered(await c.expected(), 60_000);
    await waitFor(
      '/readyz 200 before the loss',
      async () => ((await readyz(url)).status === 200 ? true : undefined),
      30_000,
    );

    const before = received(c);
    const lostAt = Date.now();
    if (how === 'flush') {
      const client = new Redis(r.url);
      await client.flushall();
      client.disconnect();
    } else {
      await r.stop();
      await r.start();
    }
    const lost = await waitFor(
      '/readyz failing on the state',
      async () => {
        const ready = await readyz(url);
        return ready.status === 503 && ready.body.checks.state?.ok === false ? ready : undefined;
      },
      60_000,
    );
    const detectedMs = Date.now() - lostAt;
    expect(lost.body.checks.state!.message).toMatch(/state lost: the state marker .* is gone from Redis/);
    expect(lost.body.checks.state!.message).toContain('resume --from');
    expect(
      await worker.waitForLine((l) => l.includes('state lost'), 'the loss in the log', 10_000),
    ).toContain('Polling is stopped');

    // New rows while the state is lost: not read, and nothing is sent again.
    const traffic = await c.traffic({ ratePerSecond: 10, durationMs: 3_000 });
    await traffic.done;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(received(c)).toBe(before);
    const status = await runCli(['status', '--no-probe'], c.env());
    expect(status.stdout + status.stderr).toContain('STATE LOST');

    // The operator resumes from the loss: the rows written since reach ISP, each once.
    const resume = await runCli(
      ['resume', '--from', new Date(Math.floor(lostAt / 1000) * 1000).toISOString()],
      c.env(),
    );
    expect(resume.code, resume.stdout + resume.stderr).toBe(0);
    const resumedAt = Date.now();
    const delivery = await c.waitDelivered(await c.expected(), 90_000);
    const back = await waitFor(
      '/readyz 200 after resume',
      async () => ((await readyz(url)).status === 200 ? true : undefined),
      60_000,
    );
    console.info(
      `[chaos state-loss ${how}] detected ${(detectedMs / 1000).toFixed(1)} s after the loss; ` +
        `${delivery.entrances.expected} entrances, ${delivery.departures.expected} departures; ` +
        `all delivered ${((Date.now() - resumedAt) / 1000).toFixed(1)} s after resume; duplicates ` +
        `${delivery.entrances.duplicates + delivery.departures.duplicates}`,
    );
    expect(back).toBe(true);
    expect(detectedMs).toBeLessThan(60_000);
    for (const stream of [delivery.entrances, delivery.departures]) {
      expect(stream.missing).toEqual([]);
      expect(stream.duplicateKeys).toEqual([]);
      expect(stream.unexpected).toEqual([]);
    }
    expect(delivery.entrances.received + delivery.departures.received).toBeGreaterThan(before);
  }, 240_000);
});

describe('a job scheduler deleted by hand', () => {
  it('fails /readyz with its name and is re-created by the worker; delivery goes on exactly once', async () => {
    chaos = await startChaos({
      seed: { lots: 4, visits: 60, photoRows: 0, days: 1, seed: 43 },
      // Checked every 4 s, so /readyz is seen failing before the worker puts the scheduler back.
      config: { pipeline: { stateCheckEveryMs: 4_000 }, streams: NO_PHOTOS },
    });
    const c = chaos;
    const worker = await c.spawnWorker('worker', { args: [] });
    const url = await dashboardUrl(worker);
    await c.waitDelivered(await c.expected(), 60_000);
    const before = received(c);

    const { createQueues } = await import('../../src/pipeline/queues.js');
    const { demoConfig } = await import('../../src/sim/demo-vendor/index.js');
    const queues = createQueues(
      demoConfig(c.style, c.dbUrl, { redis: { url: c.redisUrl, prefix: c.prefix } }),
    );
    try {
      const id = pollSchedulerId('entrances');
      const deletedAt = Date.now();
      expect(await queues.poll.entrances.removeJobScheduler(id)).toBe(true);
      const failing = await waitFor(
        '/readyz failing on the schedulers',
        async () => {
          const ready = await readyz(url);
          return ready.body.checks.schedulers?.ok === false ? ready : undefined;
        },
        10_000,
      );
      expect(failing.status).toBe(503);
      expect(failing.body.checks.schedulers!.message).toContain(`poll-entrances/${id}`);
      await waitFor(
        'the scheduler back',
        async () => ((await queues.poll.entrances.getJobScheduler(id)) ? true : undefined),
        60_000,
      );
      const recreatedMs = Date.now() - deletedAt;
      await worker.waitForLine((l) => l.includes('re-created'), 'the re-creation in the log', 10_000);
      expect(received(c)).toBe(before);

      const traffic = await c.traffic({ ratePerSecond: 10, durationMs: 3_000 });
      await traffic.done;
      const delivery = await c.waitDelivered(await c.expected(), 60_000);
      await waitFor(
        '/readyz 200 again',
        async () => ((await readyz(url)).status === 200 ? true : undefined),
        30_000,
      );
      console.info(
        `[chaos scheduler-deleted] re-created ${(recreatedMs / 1000).toFixed(1)} s after the deletion`,
      );
      expect(recreatedMs).toBeLessThan(60_000);
      for (const stream of [delivery.entrances, delivery.departures]) {
        expect(stream.missing).toEqual([]);
        expect(stream.duplicateKeys).toEqual([]);
      }
    } finally {
      await queues.close();
    }
  }, 180_000);
});
