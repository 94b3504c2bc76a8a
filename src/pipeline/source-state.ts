/**
 * What Redis holds per source prefix, for `sources list` and `sources purge`: whether a source has
 * state, the source prefixes under the deployment's base prefix that no configured source uses (a
 * removed source's state is kept until purged on purpose), and the deletion of one such prefix.
 *
 * Keys are found with SCAN on every master (src/pipeline/redis-options.ts): on a Redis Cluster a
 * source's keys share its prefix's hash tag, so they are all on the master of that slot, and each
 * batch is deleted on the master that returned it.
 */
import { type Config, sourceName, sourcePrefix } from '../config/index.js';
import { stateKey } from '../state/keys.js';
import { ALL_QUEUE_NAMES, createQueues } from './queues.js';
import { type RedisClient, scanKeys } from './redis-options.js';

/** `text` as a literal inside a SCAN MATCH pattern (a prefix may hold `*`, `?`, `[`, `]`, `\`). */
export function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Every key of a prefix: the queues' (`<prefix>:<queue>:…`) and the state's (`<prefix>:state:…`). */
export function prefixPattern(prefix: string): string {
  return `${globEscape(prefix)}:*`;
}

/** Every key of every source prefix under `base` (`{isp}` → `{isp@*}:*`). */
export function sourcesPattern(base: string): string {
  const [before, after] = splitAtName(base);
  return `${globEscape(before)}*${globEscape(after)}:*`;
}

/** The source name in a key of a source prefix under `base`, or undefined for any other key. */
export function sourceNameOfKey(base: string, key: string): string | undefined {
  const [before, after] = splitAtName(base);
  if (!key.startsWith(before)) return undefined;
  const rest = key.slice(before.length);
  const end = rest.indexOf(`${after}:`);
  if (end <= 0) return undefined;
  const name = rest.slice(0, end);
  return sourceName.safeParse(name).success ? name : undefined;
}

/** A source prefix around its name: `{isp}` → [`{isp@`, `}`]. */
function splitAtName(base: string): [string, string] {
  const marked = sourcePrefix(base, '\u0000');
  const at = marked.indexOf('\u0000');
  return [marked.slice(0, at), marked.slice(at + 1)];
}

/** Jobs in the failed sets of a prefix's queues: events (or lot flushes) never delivered. */
export async function failedJobCount(redis: RedisClient, prefix: string): Promise<number> {
  const counts = await Promise.all(ALL_QUEUE_NAMES.map((q) => redis.zcard(`${prefix}:${q}:failed`)));
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * Whether a worker has kept state under a prefix: its marker, checkpoints or delivery totals, or
 * failed jobs. Reads a few keys; no SCAN.
 */
export async function hasState(redis: RedisClient, prefix: string): Promise<boolean> {
  const keys = ['marker', 'checkpoints', 'activity:totals'].map((k) => stateKey(prefix, ...k.split(':')));
  const present = await Promise.all(keys.map((k) => redis.exists(k)));
  return present.some((n) => n > 0) || (await failedJobCount(redis, prefix)) > 0;
}

/** A source prefix found in Redis, with how many keys it holds. */
export interface FoundPrefix {
  name: string;
  prefix: string;
  keys: number;
}

/**
 * The deployment's record of its sources' prefixes (name → prefix), written by each source's
 * workers at start. A source whose `redisPrefix` is its own (a single-source deployment adopted
 * into a fleet keeps its keys) is not under the base prefix: this is how it is found once removed.
 */
export function sourceRegistryKey(base: string): string {
  return stateKey(base, 'source-prefixes');
}

export async function recordSourcePrefix(
  redis: RedisClient,
  base: string,
  name: string,
  prefix: string,
): Promise<void> {
  await redis.hset(sourceRegistryKey(base), name, prefix);
}

export async function forgetSourcePrefix(redis: RedisClient, base: string, name: string): Promise<void> {
  await redis.hdel(sourceRegistryKey(base), name);
}

/** Where a source keeps its state: the prefix it was recorded with, else the one under `base`. */
export async function prefixOfSource(redis: RedisClient, base: string, name: string): Promise<string> {
  return (await redis.hget(sourceRegistryKey(base), name)) ?? sourcePrefix(base, name);
}

/**
 * Every source prefix that holds keys, in name order: those under `base` (one SCAN pass over the
 * keyspace) and the recorded prefixes of their own (a SCAN of each).
 */
export async function sourcePrefixesInRedis(redis: RedisClient, base: string): Promise<FoundPrefix[]> {
  const found = new Map<string, FoundPrefix>();
  for await (const { keys } of scanKeys(redis, sourcesPattern(base))) {
    for (const key of keys) {
      const name = sourceNameOfKey(base, key);
      if (name === undefined) continue;
      const entry = found.get(name) ?? { name, prefix: sourcePrefix(base, name), keys: 0 };
      entry.keys++;
      found.set(name, entry);
    }
  }
  for (const [name, prefix] of Object.entries(await redis.hgetall(sourceRegistryKey(base)))) {
    if (found.has(name) || prefix === sourcePrefix(base, name)) continue;
    const keys = await countKeys(redis, prefix);
    if (keys > 0) found.set(name, { name, prefix, keys });
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Keys under a prefix (SCAN). */
export async function countKeys(redis: RedisClient, prefix: string): Promise<number> {
  let n = 0;
  for await (const { keys } of scanKeys(redis, prefixPattern(prefix))) n += keys.length;
  return n;
}

/**
 * Processes whose BullMQ workers still serve a prefix's queues (CLIENT LIST, by the name BullMQ
 * gives their connections): a prefix in use must not be deleted under them.
 */
export async function workersOn(config: Config, prefix: string): Promise<number> {
  const queues = createQueues({ ...config, redis: { ...config.redis, prefix } }, undefined, {
    readOnly: true,
  });
  try {
    const counts = await Promise.all(queues.all().map((q) => q.getWorkersCount()));
    return counts.reduce((a, b) => a + b, 0);
  } finally {
    await queues.close();
  }
}

/**
 * Deletes every key under a prefix, batch by batch as SCAN returns them, each on the server that
 * holds it (UNLINK: freed in the background). Returns how many were deleted.
 */
export async function deletePrefix(redis: RedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const { client, keys } of scanKeys(redis, prefixPattern(prefix)))
    deleted += await client.unlink(...keys);
  return deleted;
}
