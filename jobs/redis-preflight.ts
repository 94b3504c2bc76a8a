/**
 * Checks made before any work starts, each refusing with what to change:
 * - Redis must not evict keys: an evicted job, checkpoint or ledger bucket is a lost or duplicated
 *   event, so anything but `noeviction` is refused;
 * - Redis must be 6.2 or later: the ledger writes with `SET … EXAT` and the departure gate moves
 *   jobs with `ZADD … GT`; an older server would fail the first delivery instead of the start.
 */
import type { Redis } from 'ioredis';

export class RedisPolicyError extends Error {
  override readonly name = 'RedisPolicyError';
}

export const MIN_REDIS_VERSION = [6, 2] as const;

/** Why a `redis_version` is too old, or undefined when it will do. */
export function redisVersionProblem(version: string): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const [needMajor, needMinor] = MIN_REDIS_VERSION;
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined;
  return `Redis ${version} is too old: isp-park-sync needs Redis ${needMajor}.${needMinor} or later. Upgrade Redis and start again.`;
}

export async function checkRedis(redis: Redis): Promise<void> {
  const server = await redis.info('server');
  const version = /redis_version:(\S+)/.exec(server)?.[1];
  const problem = version === undefined ? undefined : redisVersionProblem(version);
  if (problem) throw new RedisPolicyError(problem);
  const memory = await redis.info('memory');
  const policy = /maxmemory_policy:(\S+)/.exec(memory)?.[1];
  if (policy && policy !== 'noeviction') {
    throw new RedisPolicyError(
      `Redis maxmemory-policy is "${policy}": it may evict queued events and checkpoints. ` +
        'Set `maxmemory-policy noeviction` (redis.conf or CONFIG SET) and start again.',
    );
  }
}
