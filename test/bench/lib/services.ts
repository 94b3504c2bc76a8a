/**
 * The benchmark's own MariaDB databases (`ipsbench_<pid>_<hex>`) and Redis key prefixes
 * (`{ipsbench_<pid>_<hex>}`), removed afterwards, plus removal of what a killed earlier run left.
 * Reuses the test helpers' database maker; must not touch any other database or key.
 */
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import {
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  TEST_MYSQL_URL,
  TEST_REDIS_URL,
  type TestDatabase,
  type TestRedis,
} from '../../helpers/services.js';

export { TEST_MYSQL_URL as BENCH_MYSQL_URL, TEST_REDIS_URL as BENCH_REDIS_URL };

export const BENCH_PREFIX = 'ipsbench';

export type BenchDatabase = TestDatabase;

export function createBenchDatabase(): Promise<BenchDatabase> {
  return createTestDatabase(BENCH_PREFIX);
}

export type BenchRedis = TestRedis;

export function createBenchRedis(): Promise<BenchRedis> {
  return createTestRedis(BENCH_PREFIX);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Drops `ipsbench_*` databases and Redis keys of benchmark processes that are gone. */
export async function removeStaleBenchData(): Promise<string[]> {
  const removed: string[] = [];
  const conn = await mysql.createConnection({ uri: TEST_MYSQL_URL });
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE '${BENCH_PREFIX}\\_%'`,
    );
    for (const row of rows) {
      const pid = Number(String(row.name).split('_')[1]);
      if (pid && !isAlive(pid)) {
        await conn.query(`DROP DATABASE IF EXISTS \`${row.name}\``);
        removed.push(String(row.name));
      }
    }
    const [users] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT User AS user, Host AS host FROM mysql.user WHERE User LIKE '${BENCH_PREFIX}\\_%'`,
    );
    for (const row of users) {
      const pid = Number(String(row.user).split('_')[1]);
      if (pid && !isAlive(pid)) {
        await conn.query('DROP USER IF EXISTS ?@?', [row.user, row.host]);
        removed.push(`user ${row.user}`);
      }
    }
  } finally {
    await conn.end();
  }
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 3 });
  try {
    const pids = new Set<number>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `{${BENCH_PREFIX}_*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) pids.add(Number(key.split('_')[1]));
    } while (cursor !== '0');
    for (const pid of pids) {
      if (pid && !isAlive(pid)) {
        await deleteKeys(redis, `{${BENCH_PREFIX}_${pid}_*`);
        removed.push(`redis {${BENCH_PREFIX}_${pid}_*}`);
      }
    }
  } finally {
    redis.disconnect();
  }
  return removed;
}
