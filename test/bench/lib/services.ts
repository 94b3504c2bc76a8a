/**
 * The benchmark's own MariaDB databases (`ipsbench_<pid>_<hex>`) and Redis key prefixes
 * (`{ipsbench_<pid>_<hex>}`), removed afterwards, plus removal of what a killed earlier run left.
 * Reuses the test helpers' database maker; must not touch any other database or key.
 */
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import {
  createTestDatabase,
  deleteKeys,
  TEST_MYSQL_URL,
  TEST_REDIS_URL,
  type TestDatabase,
  uniqueName,
} from '../../helpers/services.js';

export { TEST_MYSQL_URL as BENCH_MYSQL_URL, TEST_REDIS_URL as BENCH_REDIS_URL };

export const BENCH_PREFIX = 'ipsbench';

export type BenchDatabase = TestDatabase;

export function createBenchDatabase(): Promise<BenchDatabase> {
  return createTestDatabase(BENCH_PREFIX);
}

export interface BenchRedis {
  /** `{ipsbench_<pid>_<hex>}`: one hash tag, so a cluster would keep it in one slot. */
  prefix: string;
  url: string;
  client: Redis;
  cleanup(): Promise<void>;
}

export function createBenchRedis(): BenchRedis {
  const prefix = `{${uniqueName(BENCH_PREFIX)}}`;
  const client = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 3 });
  return {
    prefix,
    url: TEST_REDIS_URL,
    client,
    async cleanup() {
      await deleteKeys(client, `${prefix}*`);
      await client.quit().catch(() => undefined);
    },
  };
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
