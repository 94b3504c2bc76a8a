/**
 * Real services for integration tests: a MariaDB database and a Redis key prefix of the test's
 * own, both removed afterwards, so reruns and parallel files never see each other's data.
 * TEST_MYSQL_URL (server, no database) and TEST_REDIS_URL override the local defaults.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { type RedisClient, scanKeys } from '../../src/pipeline/redis-options.js';

export const TEST_MYSQL_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export interface TestDatabase {
  name: string;
  /** mysql:// URL of the database. */
  url: string;
  /** A root connection to it, for set-up and assertions (the code under test gets `url`). */
  admin: mysql.Connection;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'ipstest'): Promise<TestDatabase> {
  const name = uniqueName(prefix);
  const server = await mysql.createConnection({ uri: TEST_MYSQL_URL, multipleStatements: true });
  await server.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await server.end();
  const url = `${TEST_MYSQL_URL.replace(/\/$/, '')}/${name}`;
  const admin = await mysql.createConnection({ uri: url, multipleStatements: true, dateStrings: true });
  return {
    name,
    url,
    admin,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => undefined);
      await admin.end().catch(() => undefined);
    },
  };
}

export interface TestRedis {
  /** Key prefix of this test, with a hash tag, e.g. `{t_123_ab12}`. */
  prefix: string;
  url: string;
  client: Redis;
  cleanup(): Promise<void>;
}

/** A Redis key prefix of its own (`{<base>_<pid>_<random>}`) on the test Redis. */
export async function createTestRedis(base = 't'): Promise<TestRedis> {
  const prefix = `{${uniqueName(base)}}`;
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

/** Deletes the keys matching `pattern`, on every master of a cluster, one DEL per key there. */
export async function deleteKeys(client: RedisClient, pattern: string): Promise<void> {
  for await (const { client: node, keys } of scanKeys(client, pattern)) {
    const pipeline = node.pipeline();
    for (const key of keys) pipeline.del(key);
    await pipeline.exec();
  }
}
