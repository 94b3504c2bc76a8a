/**
 * Keeps two demos from using the same data: a demo clears its Redis prefix and recreates its
 * database at start, so a second one on the same prefix or database would wipe a running demo.
 * Before touching anything a demo claims both:
 * - the database with MariaDB's GET_LOCK on a connection held for the demo's life (released by the
 *   server when the process dies, however it dies);
 * - the prefix with a Redis key outside the prefix (so clearing the prefix does not drop it), set
 *   with NX and an expiry that a timer keeps renewing (a killed demo frees it within LOCK_TTL_MS).
 * A demo that finds either taken refuses, saying how to run one beside it. Never deletes anything.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import mysql from 'mysql2/promise';
import { createRedisClient } from '../pipeline/redis-options.js';
import { redactUrl } from '../redact.js';

export const LOCK_TTL_MS = 15_000;

export class DemoBusyError extends Error {
  override readonly name = 'DemoBusyError';
}

export interface DemoLock {
  release(): Promise<void>;
}

export function prefixLockKey(prefix: string): string {
  return `isp-park-sync:demo-lock:${prefix}`;
}

/** `isp-demo:<host:port/db>`, cut to MariaDB's 64-character limit of lock names. */
function databaseLockName(url: URL): string {
  return `isp-demo:${url.hostname}:${url.port || 3306}/${decodeURIComponent(url.pathname.slice(1))}`.slice(
    0,
    64,
  );
}

const RENAME_HINT =
  'stop it first, or run this demo beside it with its own --prefix and --url ' +
  "(e.g. --prefix '{isp-demo-2}' --url mysql://root@127.0.0.1:3306/isp_park_demo_2) and its own --sim-port and --web-port";

export async function claimDemo(redisUrl: string, prefix: string, databaseUrl: string): Promise<DemoLock> {
  const owner = `${hostname()} pid ${process.pid} since ${new Date().toISOString()}`;
  const token = `${owner} ${randomBytes(6).toString('hex')}`;
  const url = new URL(databaseUrl);
  // The server, not the database: it may not exist yet (the demo creates it).
  const server = new URL(url);
  server.pathname = '/';
  const conn = await mysql.createConnection({ uri: server.toString() }).catch((error: Error) => {
    throw new Error(`demo vendor database ${redactUrl(databaseUrl)}: ${error.message}`);
  });
  const name = databaseLockName(url);
  const [rows] = await conn.query('SELECT GET_LOCK(?, 0) AS got', [name]);
  if (Number((rows as Array<{ got: number | null }>)[0]?.got) !== 1) {
    await conn.end().catch(() => conn.destroy());
    throw new DemoBusyError(
      `another demo is running on the database ${redactUrl(databaseUrl)}; starting here would recreate it under ` +
        `that demo: ${RENAME_HINT}`,
    );
  }

  const redis = createRedisClient(redisUrl, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // the renewal below says what matters; no client noise
  const key = prefixLockKey(prefix);
  const set = await redis.set(key, token, 'PX', LOCK_TTL_MS, 'NX').catch(async (error: Error) => {
    await Promise.allSettled([conn.end(), redis.quit()]);
    throw error;
  });
  if (set !== 'OK') {
    const holder = await redis.get(key).catch(() => null);
    await Promise.allSettled([conn.end(), redis.quit()]);
    throw new DemoBusyError(
      `another demo is running on the Redis prefix ${prefix}${holder ? ` (${holder.replace(/ [0-9a-f]{12}$/, '')})` : ''}; ` +
        `starting here would clear its queues and checkpoints: ${RENAME_HINT}`,
    );
  }
  // Renew only while it is still ours (a demo paused past the TTL must not take over another's).
  const renew = setInterval(() => {
    redis
      .eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0",
        1,
        key,
        token,
        LOCK_TTL_MS,
      )
      .catch(() => undefined);
  }, LOCK_TTL_MS / 3);
  renew.unref();
  return {
    async release() {
      clearInterval(renew);
      await redis
        .eval(
          "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
          1,
          key,
          token,
        )
        .catch(() => undefined);
      await Promise.allSettled([
        redis.quit(),
        conn.query('SELECT RELEASE_LOCK(?)', [name]).then(() => conn.end()),
      ]);
    },
  };
}
