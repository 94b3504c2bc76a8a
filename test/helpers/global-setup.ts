/**
 * Fails the run at once, with what to do, when Redis or MariaDB is not reachable, instead of
 * letting every integration test time out. Also removes databases left by killed earlier runs.
 */
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { TEST_MYSQL_URL, TEST_REDIS_URL } from './services.js';

export default async function setup(): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${TEST_REDIS_URL} (${(error as Error).message}); start it (see .ci/run)`,
    );
  } finally {
    redis.disconnect();
  }
  let conn: mysql.Connection | undefined;
  try {
    conn = await mysql.createConnection({ uri: TEST_MYSQL_URL });
    // Databases of earlier runs that were killed before their cleanup: older than an hour.
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE 'ipstest\\_%'`,
    );
    for (const row of rows) {
      const pid = Number(String(row.name).split('_')[1]);
      if (pid && !isAlive(pid)) await conn.query(`DROP DATABASE IF EXISTS \`${row.name}\``);
    }
  } catch (error) {
    throw new Error(
      `MariaDB is not reachable at ${TEST_MYSQL_URL} (${(error as Error).message}); start it (see .ci/run)`,
    );
  } finally {
    await conn?.end();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
