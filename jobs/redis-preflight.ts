/**
 * Checks made before any work starts, each refusing with what to change:
 * - Redis must not evict keys: an evicted job, checkpoint or ledger bucket is a lost or duplicated
 *   event, so anything but `noeviction` is refused;
 * - Redis must be 6.2 or later: the ledger writes with `SET … EXAT` and the departure gate moves
 *   jobs with `ZADD … GT`; an older server would fail the first delivery instead of the start.
 * On a Redis Cluster every node is checked, replicas too (a replica is the master after a
 * failover), and the cluster must say `cluster_state:ok`.
 */
import {
  clusterStateProblem,
  isCluster,
  type RedisClient,
  redisServers,
} from '../src/pipeline/redis-options.js';

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

/** Why a `maxmemory_policy` may lose data, or undefined when it will do. */
export function evictionProblem(policy: string | undefined): string | undefined {
  if (!policy || policy === 'noeviction') return undefined;
  return (
    `Redis maxmemory-policy is "${policy}": it may evict queued events and checkpoints. ` +
    'Set `maxmemory-policy noeviction` (redis.conf or CONFIG SET) and start again.'
  );
}

export async function checkRedis(redis: RedisClient): Promise<void> {
  const servers = await redisServers(redis);
  const cluster = isCluster(redis);
  const state = await clusterStateProblem(redis);
  if (state) throw new RedisPolicyError(`${state}; start again when it says ok.`);
  for (const { name, client } of servers) {
    const where = cluster ? ` (node ${name})` : '';
    const server = await client.info('server');
    const version = /redis_version:(\S+)/.exec(server)?.[1];
    const tooOld = version === undefined ? undefined : redisVersionProblem(version);
    if (tooOld) throw new RedisPolicyError(tooOld.replace(' is too old', `${where} is too old`));
    const memory = await client.info('memory');
    const evicts = evictionProblem(/maxmemory_policy:(\S+)/.exec(memory)?.[1]);
    if (evicts)
      throw new RedisPolicyError(evicts.replace('Redis maxmemory-policy', `Redis${where} maxmemory-policy`));
  }
}
