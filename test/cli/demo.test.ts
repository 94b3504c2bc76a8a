/**
 * Two demos never collide: with a demo running, a second one on the same Redis prefix, or on the
 * same database under another prefix (each with ports of its own), refuses before it clears or
 * recreates anything, saying how to run beside it; the first demo keeps delivering (its
 * simulator's received count keeps growing) and its Redis keys are still there.
 */
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { prefixLockKey } from '../../src/cli/demo-lock.js';
import { waitFor } from '../helpers/pipeline.js';
import { killAll, type ManagedProcess, spawnManaged } from '../helpers/processes.js';
import { deleteKeys, TEST_MYSQL_URL, TEST_REDIS_URL, uniqueName } from '../helpers/services.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await killAll();
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function demo(name: string, url: string, prefix: string): ManagedProcess {
  return spawnManaged(
    name,
    process.execPath,
    [
      'bin/isp-park-sync.js',
      'demo',
      '--url',
      url,
      '--prefix',
      prefix,
      '--redis-url',
      TEST_REDIS_URL,
      '--sim-port',
      '0',
      '--web-port',
      '0',
      '--lots',
      '3',
      '--visits',
      '100',
      '--rate',
      '8',
    ],
    { env: { PATH: process.env.PATH, HOME: process.env.HOME } },
  );
}

async function received(statsUrl: string): Promise<number> {
  const stats = (await (await fetch(statsUrl)).json()) as { received: Record<string, number> };
  return (stats.received.entrance ?? 0) + (stats.received.departure ?? 0);
}

describe('two demos at once', () => {
  it('the second refuses on the same prefix or database; the first keeps delivering', async () => {
    const database = uniqueName('ipstest');
    const url = `${TEST_MYSQL_URL.replace(/\/$/, '')}/${database}`;
    const prefix = `{${uniqueName('t')}}`;
    const other = `{${uniqueName('t')}}`;
    const redis = new Redis(TEST_REDIS_URL);
    cleanups.push(async () => {
      for (const p of [prefix, other]) await deleteKeys(redis, `${p}*`);
      await redis.del(prefixLockKey(prefix), prefixLockKey(other));
      await redis.quit();
      const conn = await mysql.createConnection({ uri: TEST_MYSQL_URL });
      await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await conn.end();
    });

    const first = demo('demo-1', url, prefix);
    const statsLine = await first.waitForLine((l) => /ISP simulator\s+http/.test(l), 'simulator URL', 60_000);
    const stats = /(http:\/\/\S+\/_sim\/stats)/.exec(statsLine)![1]!;
    await waitFor('deliveries of the first demo', async () => (await received(stats)) > 0, 30_000);
    const keysBefore = (await redis.keys(`${prefix}*`)).length;
    expect(keysBefore).toBeGreaterThan(0);

    for (const [name, p] of [
      ['same prefix and database', prefix],
      ['same database, other prefix', other],
    ] as const) {
      const second = demo(`demo-2 (${name})`, url, p);
      const exit = await Promise.race([
        second.exited,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`${name}: did not refuse\n${second.output()}`)), 30_000),
        ),
      ]);
      expect(exit.code, second.output()).toBe(1);
      expect(second.output()).toMatch(/another demo is running on the (Redis prefix|database)/);
      expect(second.output()).toContain('--prefix');
      expect(second.output()).not.toContain('creating and seeding');
    }

    // The first demo is untouched: its keys are there and its simulator keeps receiving.
    expect((await redis.keys(`${prefix}*`)).length).toBeGreaterThan(0);
    const before = await received(stats);
    await waitFor('the first demo to deliver more', async () => (await received(stats)) > before, 30_000);
    expect(first.running()).toBe(true);
    await first.stop(60_000);
    // Stopped, it gives its claims back: the next demo may start.
    expect(await redis.exists(prefixLockKey(prefix))).toBe(0);
  }, 180_000);
});
