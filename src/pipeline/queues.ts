/**
 * Queue names, Redis connections and job options: the one place that knows how our work is laid
 * out in BullMQ. Names contain no ":"; every queue and state key lives under the configured prefix
 * (with a {hash tag}, so Redis Cluster keeps them in one slot).
 */
import { type ConnectionOptions, FlowProducer, Queue, type QueueOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import type { Config, StreamName } from '../config/index.js';
import { STREAM_NAMES } from '../config/index.js';
import { isConnectionError } from './reachability.js';
import { createRedisClient, type RedisClient, redisOptions } from './redis-options.js';

export const pollQueueName = (stream: StreamName) => `poll-${stream}`;
export const pushQueueName = (stream: StreamName) => `push-${stream}`;
export const FULL_SYNC_QUEUE = 'full-sync';
/** The lot health alerts' evaluation (one at a time, cluster-wide). */
export const HEALTH_QUEUE = 'lot-health';

export const ALL_QUEUE_NAMES = [
  ...STREAM_NAMES.map(pollQueueName),
  ...STREAM_NAMES.map(pushQueueName),
  FULL_SYNC_QUEUE,
  HEALTH_QUEUE,
];

export { redisOptions };

/** Connection options for Workers: they block on Redis and must retry forever. */
export function workerConnection(config: Config): ConnectionOptions {
  return redisOptions(config.redis.url, { maxRetriesPerRequest: null }) as ConnectionOptions;
}

/** Connection options for producers (queues, status): fail fast instead of queueing commands offline. */
export function producerConnection(config: Config): ConnectionOptions {
  return redisOptions(config.redis.url, {
    maxRetriesPerRequest: 3,
    enableOfflineQueue: false,
  }) as ConnectionOptions;
}

/** A plain client for our own state keys (a Cluster client on a cluster). The caller quits it. */
export function createRedis(config: Config, extra: RedisOptions = {}): RedisClient {
  return createRedisClient(config.redis.url, { maxRetriesPerRequest: 3, ...extra });
}

/** `readOnly`: the Queue objects write nothing on creation (BullMQ otherwise sets each queue's meta). */
export function queueOptions(
  config: Config,
  connection: ConnectionOptions,
  options: { readOnly?: boolean } = {},
): QueueOptions {
  return {
    connection,
    prefix: config.redis.prefix,
    ...(options.readOnly ? { skipMetasUpdate: true } : {}),
    defaultJobOptions: {
      removeOnComplete: {
        age: config.pipeline.keepCompleted.ageSeconds,
        count: config.pipeline.keepCompleted.count,
      },
      // A failed push job is an undelivered event: it stays until replayed or discarded on purpose
      // (`replay --discard`, audited), never trimmed by age or count.
      removeOnFail: false,
    },
  };
}

/** Push jobs retry until `retryForMs` has passed (checked by the processor), with the 'isp' backoff. */
export const PUSH_ATTEMPTS = 1_000_000;

export interface Queues {
  poll: Record<StreamName, Queue>;
  push: Record<StreamName, Queue>;
  fullSync: Queue;
  health: Queue;
  /** Jobs that must run in order across queues (made on first use: most processes never need it). */
  flows(): FlowProducer;
  /** The queues' default job options: a flow's jobs do not get them from their queue. */
  jobDefaults: NonNullable<QueueOptions['defaultJobOptions']>;
  all(): Queue[];
  close(): Promise<void>;
}

/**
 * Where a queue's client errors go. Without a listener BullMQ prints every reconnect failure of
 * every queue with its stack; the default drops connection errors, since the command that awaits
 * the queue fails with them anyway, and prints any other error on one line.
 */
export type QueueErrorHandler = (error: Error, queue: string) => void;

const quietQueueErrors: QueueErrorHandler = (error, queue) => {
  if (!isConnectionError(error)) console.error(`queue ${queue}: ${error.message}`);
};

export function createQueues(
  config: Config,
  connection: ConnectionOptions = producerConnection(config),
  settings: { readOnly?: boolean; onError?: QueueErrorHandler } = {},
): Queues {
  const options = queueOptions(config, connection, settings);
  const onError = settings.onError ?? quietQueueErrors;
  const make = (name: string) => {
    const queue = new Queue(name, options);
    queue.on('error', (error) => onError(error, name));
    return queue;
  };
  const poll = Object.fromEntries(STREAM_NAMES.map((s) => [s, make(pollQueueName(s))])) as Record<
    StreamName,
    Queue
  >;
  const push = Object.fromEntries(STREAM_NAMES.map((s) => [s, make(pushQueueName(s))])) as Record<
    StreamName,
    Queue
  >;
  const fullSync = make(FULL_SYNC_QUEUE);
  const health = make(HEALTH_QUEUE);
  const all = () => [...Object.values(poll), ...Object.values(push), fullSync, health];
  let flows: FlowProducer | undefined;
  return {
    poll,
    push,
    fullSync,
    health,
    jobDefaults: options.defaultJobOptions ?? {},
    flows: () => {
      flows ??= new FlowProducer({ connection, prefix: config.redis.prefix });
      return flows;
    },
    all,
    async close() {
      await Promise.all([...all().map((q) => q.close()), flows?.close()]);
    },
  };
}

/** Jobs still to do in a push queue (the backpressure measure). */
export async function pendingDepth(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'waiting-children');
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
