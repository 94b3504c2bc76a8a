/**
 * Checks made before any work starts. Redis must not evict keys: an evicted job, checkpoint or
 * ledger bucket is a lost or duplicated event, so anything but `noeviction` is refused.
 */
import type { Redis } from 'ioredis';

export class RedisPolicyError extends Error {
  override readonly name = 'RedisPolicyError';
}

export async function checkRedisPolicy(redis: Redis): Promise<void> {
  const info = await redis.info('memory');
  const policy = /maxmemory_policy:(\S+)/.exec(info)?.[1];
  if (policy && policy !== 'noeviction') {
    throw new RedisPolicyError(
      `Redis maxmemory-policy is "${policy}": it may evict queued events and checkpoints. ` +
        'Set `maxmemory-policy noeviction` (redis.conf or CONFIG SET) and start again.',
    );
  }
}
