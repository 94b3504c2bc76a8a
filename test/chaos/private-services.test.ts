/**
 * The failure tests' own servers (test/helpers/processes.ts): a private redis-server and mariadbd
 * keep their data across the stop/start the chaos tests put them through, and killAll leaves no
 * process of theirs behind.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, spawnManaged, startPrivateMariadb, startPrivateRedis } from '../helpers/processes.js';

afterEach(async () => {
  await killAll();
});

/** Running (a zombie waiting for its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('private services for the failure tests', () => {
  it('a private redis-server keeps what it acknowledged across a restart (AOF, fsync always)', async () => {
    const redis = await startPrivateRedis();
    try {
      const client = new Redis(redis.url, { maxRetriesPerRequest: null });
      client.on('error', () => undefined);
      await client.set('k', 'v1');
      await client.rpush('list', 'a', 'b');
      const pid = redis.process!.pid;
      await redis.stop();
      expect(alive(pid)).toBe(false);
      await redis.start();
      // The same client reconnects by itself to the same port.
      expect(await client.get('k')).toBe('v1');
      expect(await client.lrange('list', 0, -1)).toEqual(['a', 'b']);
      client.disconnect();
    } finally {
      await redis.close();
    }
  });

  it('a private mariadbd starts in seconds and keeps committed rows across a restart', async () => {
    const started = Date.now();
    const db = await startPrivateMariadb();
    const bootMs = Date.now() - started;
    try {
      const conn = await mysql.createConnection({ uri: db.url, multipleStatements: true });
      await conn.query(
        'CREATE DATABASE t; CREATE TABLE t.x (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO t.x VALUES (1), (2)',
      );
      await conn.end();
      await db.stop();
      await db.start();
      const again = await mysql.createConnection({ uri: db.url });
      const [rows] = await again.query<mysql.RowDataPacket[]>('SELECT id FROM t.x ORDER BY id');
      await again.end();
      expect(rows.map((r) => r.id)).toEqual([1, 2]);
      console.info(
        `[chaos services] private mariadbd installed and started in ${(bootMs / 1000).toFixed(1)} s`,
      );
      expect(bootMs).toBeLessThan(30_000);
    } finally {
      await db.close();
    }
  });

  it('killAll ends every process group it started, children included', async () => {
    // A shell that starts a grandchild in its own group: both must go.
    const shell = spawnManaged('shell', 'sh', ['-c', 'sleep 300 & echo child $!; wait']);
    const line = await shell.waitForLine((l) => l.startsWith('child '), 'grandchild pid');
    const grandchild = Number(line.split(' ')[1]);
    expect(alive(grandchild)).toBe(true);
    await killAll();
    expect(shell.running()).toBe(false);
    // The grandchild dies with its group; give the signal a moment.
    for (let i = 0; i < 50 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(grandchild)).toBe(false);
  });
});
