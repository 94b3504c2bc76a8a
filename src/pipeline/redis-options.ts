/**
 * The one door to Redis connections: reads REDIS_URL (src/config/redis-url.ts) and makes every
 * client, ours and BullMQ's, for one server or a Redis Cluster alike.
 *
 * Connections are described as options first (`redisOptions`), because BullMQ takes options and
 * makes (and closes) its own clients through `RedisConnection.clientFactory`, which is set to
 * `connectRedis` here. A cluster's options carry its seed nodes in `clusterNodes`; `connectRedis`
 * turns them into an ioredis `Cluster` with the same per-node options (credentials, TLS, timeouts,
 * `maxRetriesPerRequest`) and the cluster-wide ones (`lazyConnect`, offline queue, ready check,
 * retry strategy) where a Cluster expects them.
 */
import { createIORedisClient, RedisConnection } from 'bullmq';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { parseRedisUrl, type RedisEndpoint } from '../config/index.js';
import type { RedisClient } from '../state/redis-client.js';

export type { RedisClient };

/** ioredis options, plus the seed nodes when the URL names a cluster. */
export type RedisConnectionOptions = RedisOptions & { clusterNodes?: RedisEndpoint[] };

export function redisOptions(url: string, extra: RedisOptions = {}): RedisConnectionOptions {
  const target = parseRedisUrl(url);
  const common: RedisOptions = {
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
    ...extra,
  };
  const first = target.nodes[0]!;
  if (!target.cluster) return { host: first.host, port: first.port, db: target.db, ...common };
  return { ...common, clusterNodes: target.nodes };
}

/** A client for options made by `redisOptions` (or BullMQ's copy of them). The caller closes it. */
export function connectRedis(options: RedisConnectionOptions): RedisClient {
  const { clusterNodes, ...rest } = options;
  if (!clusterNodes) return new Redis(rest);
  return new Cluster(clusterNodes, clusterOptions(rest));
}

/** A client for REDIS_URL with `extra` options. The caller closes it. */
export function createRedisClient(url: string, extra: RedisOptions = {}): RedisClient {
  return connectRedis(redisOptions(url, extra));
}

/**
 * Splits flat options into a Cluster's: the node-level ones go to every node's connection, the
 * others apply to the cluster as a whole. A node's own retry strategy stays off (ioredis's design:
 * a lost node is found again through the slot map), so ours becomes the cluster's. The cluster's
 * ready check is always off (below), whatever the caller asks.
 */
export function clusterOptions(options: RedisOptions): ClusterOptions {
  const {
    host: _host,
    port: _port,
    path: _path,
    db: _db,
    sentinels: _sentinels,
    readOnly: _readOnly,
    retryStrategy,
    lazyConnect,
    enableOfflineQueue,
    enableReadyCheck: _enableReadyCheck,
    ...node
  } = options;
  return {
    redisOptions: node,
    // Off for the cluster as a whole: when its CLUSTER INFO check fails (cluster_state:fail, as
    // between a master's death and its replica's takeover), ioredis reconnects but never settles
    // the pending `connect()` promise (github.com/redis/ioredis/pull/741). BullMQ awaits that
    // promise when it resets a blocking connection, so a poll's worker stopped fetching jobs for
    // good after a failover. `cluster_state` is checked where it matters instead: at start
    // (jobs/redis-preflight.ts) and in /readyz; commands meanwhile answered CLUSTERDOWN are retried.
    enableReadyCheck: false,
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(retryStrategy !== undefined ? { clusterRetryStrategy: retryStrategy } : {}),
    // A failover moves slots within node-timeout; commands meanwhile wait and retry instead of failing.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
  };
}

export function isCluster(redis: RedisClient): redis is Cluster {
  return (redis as Cluster).isCluster === true;
}

/**
 * The servers behind a client: itself, or every node of a cluster the client knows (masters and
 * replicas: a replica is a master after a failover). Waits for a cluster's slot map first.
 */
export async function redisServers(
  redis: RedisClient,
  role: 'all' | 'master' = 'all',
): Promise<Array<{ name: string; client: Redis }>> {
  if (!isCluster(redis)) return [{ name: nodeName(redis), client: redis }];
  await clusterReady(redis);
  return redis.nodes(role).map((client) => ({ name: nodeName(client), client }));
}

/**
 * Why a cluster cannot serve every key now (`cluster_state` other than `ok`: slots without a
 * master, e.g. while a failover is pending), or undefined. Undefined for a single server.
 */
export async function clusterStateProblem(redis: RedisClient): Promise<string | undefined> {
  if (!isCluster(redis)) return undefined;
  const state = /cluster_state:(\S+)/.exec(await redis.cluster('INFO'))?.[1];
  return state === 'ok'
    ? undefined
    : `Redis Cluster state is "${state}": some slots have no master (a failover under way, or nodes lost); ` +
        'check it with `redis-cli --cluster check <node>`';
}

/** Resolves once the cluster client has its slot map (`ready`); connects a lazy one. */
export async function clusterReady(cluster: Cluster): Promise<void> {
  if (cluster.status === 'ready') return;
  if (cluster.status === 'wait') {
    await cluster.connect();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      cluster.off('ready', onReady);
      cluster.off('end', onEnd);
      if (error) reject(error);
      else resolve();
    };
    const onReady = () => done();
    const onEnd = () => done(new Error('Redis Cluster connection closed before it was ready'));
    cluster.on('ready', onReady);
    cluster.on('end', onEnd);
  });
}

function nodeName(client: Redis): string {
  return `${client.options.host}:${client.options.port}`;
}

/**
 * Every key matching `pattern`, by SCAN on each master (a cluster's keys are spread over them; a
 * replica holds copies). Yields batches as SCAN returns them, each with the server holding it.
 */
export async function* scanKeys(
  redis: RedisClient,
  pattern: string,
): AsyncGenerator<{ client: Redis; keys: string[] }> {
  for (const { client } of await redisServers(redis, 'master')) {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) yield { client, keys };
    } while (cursor !== '0');
  }
}

// bullmq 6 loads ioredis with require(), which native ESM lacks: hand it the constructor once, so
// connection *options* still work (BullMQ then owns and closes the clients it makes).
RedisConnection.clientFactory ??= (opts) => createIORedisClient(connectRedis(opts as RedisConnectionOptions));
