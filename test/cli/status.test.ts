/**
 * `status` tells the truth and only reads: the token the workers hold (recorded by them in Redis,
 * not this process's own client), lag in whole seconds, an error with when it recovered, delivered
 * totals that a restart does not reset, lots in natural order; it writes no key. Against a prefix
 * where nothing ran it says so and names the prefixes it finds; without Redis it says Redis is
 * unreachable in one line.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Every key under the prefix with a digest of its value (DUMP), and its TTL state. */
async function snapshot(redis: Redis, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      // BullMQ's stalled-check marks, left by the stopped workers, expire on their own (5 s): on a
      // slow machine one can vanish while status runs, which is not a write of status's.
      if (key.endsWith(':stalled-check')) continue;
      const dump = await redis.dumpBuffer(key);
      out.set(key, dump ? createHash('sha1').update(dump).digest('hex') : 'gone');
    }
  } while (cursor !== '0');
  return out;
}

interface StatusJson {
  isp: { token: { valid: boolean; expiresInSeconds: number | null } };
  streams: Array<{
    stream: string;
    lagSeconds: number | null;
    delivered: { total: number };
    lastError: { message: string; recoveredAt: number | null } | null;
  }>;
  lots: Array<{ parkCode: string }>;
  alerts: string[];
}

describe('status', () => {
  it('shows the workers token, whole-second lag, recovery, kept totals and natural lot order, and writes nothing', async () => {
    harness = await startHarness({
      seed: { lots: 11, visits: 80, photoRows: 0, days: 1 },
      config: { streams: { entrances: { photo: null }, departures: { photo: null } } },
    });
    const h = harness;
    // The lots are at ISP; then every push fails at first: the error is recorded, then recovers
    // when ISP answers again.
    await h.registerLots();
    h.sim.patchFaults({ http500Rate: 1 });
    await h.start();
    await waitFor(
      'a push error recorded',
      async () => (await h.rt.activity.lastError('entrances'))?.message,
      30_000,
    );
    expect((await h.rt.activity.lastError('entrances'))?.recoveredAt).toBeUndefined();
    h.sim.patchFaults({ http500Rate: 0 });
    await waitFor(
      'the error recovered and deliveries made',
      async () => (await h.rt.activity.lastError('entrances'))?.recoveredAt,
      60_000,
    );
    await waitFor('push queues idle', async () => {
      const counts = await Promise.all(
        Object.values(h.rt.queues.push).map((q) => q.getJobCounts('wait', 'active', 'delayed')),
      );
      return counts.every((c) => (c.wait ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) === 0);
    });
    const env = h.childEnv();
    const deliveredAtIsp = h.sim.state.store.count('entrance');

    // A restart of the workers (a crash loses the process, not Redis): totals stay.
    await h.stopWorkers();
    await h.start();
    await h.stopWorkers();

    const before = await snapshot(h.redis.client, h.redis.prefix);
    const text = await runCli(['status', '--no-probe'], env);
    const json = await runCli(['status', '--json', '--no-probe'], env);
    const after = await snapshot(h.redis.client, h.redis.prefix);
    expect(text.code, text.stderr).toBe(0);
    expect(json.code, json.stderr).toBe(0);
    // Reads only: the same keys with the same values.
    expect([...after.entries()].sort()).toEqual([...before.entries()].sort());

    const status = JSON.parse(json.stdout) as StatusJson;
    expect(status.isp.token.valid).toBe(true);
    expect(status.isp.token.expiresInSeconds).toBeGreaterThan(0);
    expect(text.stdout).toMatch(/token valid, expires in \d+ s/);
    const entrances = status.streams.find((s) => s.stream === 'entrances')!;
    expect(Number.isInteger(entrances.lagSeconds)).toBe(true);
    expect(entrances.delivered.total).toBe(deliveredAtIsp);
    expect(entrances.lastError?.recoveredAt).toBeGreaterThan(0);
    expect(text.stdout).toMatch(/last error entrances at .* \(recovered at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)/);
    const codes = status.lots.map((l) => l.parkCode);
    expect(codes.indexOf('ATXL/2')).toBeGreaterThanOrEqual(0);
    expect(codes.indexOf('ATXL/2')).toBeLessThan(codes.indexOf('ATXL/10'));
    expect(text.stdout).toContain('times in Asia/Shanghai');

    // A prefix where nothing ran: said, with the prefixes that hold worker state.
    const nothing = `{nothing-ran-${process.pid}}`;
    const empty = await runCli(['status', '--no-probe'], { ...env, REDIS_PREFIX: nothing });
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toContain(`nothing has run with Redis prefix ${nothing}`);
    expect(empty.stdout).toContain(h.redis.prefix);
    // ... and leaves nothing behind there (BullMQ's queue objects would write each queue's meta).
    expect(await h.redis.client.keys(`${nothing}*`)).toEqual([]);

    // Without Redis: one line that says so, no client noise or stack.
    const down = await runCli(['status', '--no-probe'], { ...env, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/Redis at 127\.0\.0\.1:1 .*unreachable: .*ECONNREFUSED/);
    expect(down.stderr).not.toMatch(/max retries|\bat .*\.js:\d+/);
    expect((down.stdout + down.stderr).trim().split('\n').length).toBeLessThanOrEqual(2);
  }, 150_000);
});
