/**
 * The source prefixes in Redis: the pattern of a deployment's source prefixes and the name in a key
 * (pure), and on a real Redis Cluster (three masters: the sources' hash tags spread over them) that
 * every source prefix is found on whichever master holds it and that a purge deletes one prefix's
 * keys, wherever they are, and nothing else; a source recorded with a prefix of its own
 * (`redisPrefix`) is found there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourcePrefix } from '../../src/config/index.js';
import { createRedisClient, type RedisClient } from '../../src/pipeline/redis-options.js';
import {
  countKeys,
  deletePrefix,
  failedJobCount,
  forgetSourcePrefix,
  globEscape,
  hasState,
  prefixOfSource,
  recordSourcePrefix,
  sourceNameOfKey,
  sourcePrefixesInRedis,
  sourcesPattern,
} from '../../src/pipeline/source-state.js';
import { type PrivateRedisCluster, startRedisCluster } from '../helpers/redis-cluster.js';
import { uniqueName } from '../helpers/services.js';

describe('source prefixes (pure)', () => {
  it('matches the source prefixes under a base, tagged or not, and reads the name back', () => {
    expect(sourcesPattern('{isp}')).toBe('{isp@*}:*');
    expect(sourcesPattern('isp')).toBe('isp@*:*');
    expect(sourcesPattern('a*b{c}')).toBe('a\\*b{c@*}:*');
    expect(globEscape('x[1]?\\')).toBe('x\\[1\\]\\?\\\\');
    expect(sourceNameOfKey('{isp}', '{isp@north}:state:marker')).toBe('north');
    expect(sourceNameOfKey('{isp}', '{isp@north}:push-entrances:failed')).toBe('north');
    expect(sourceNameOfKey('isp', 'isp@south-2:state:checkpoints')).toBe('south-2');
    // The deployment's own keys, another deployment's, and what no source may be named.
    expect(sourceNameOfKey('{isp}', '{isp}:state:marker')).toBeUndefined();
    expect(sourceNameOfKey('{isp}', '{ispx@north}:state:marker')).toBeUndefined();
    expect(sourceNameOfKey('{isp}', '{isp@North Side}:state:marker')).toBeUndefined();
  });
});

describe('source prefixes on a Redis Cluster', () => {
  let cluster: PrivateRedisCluster;
  let redis: RedisClient;
  const base = `{${uniqueName('cl')}}`;
  const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    redis = createRedisClient(cluster.url, { maxRetriesPerRequest: 3 });
    for (const name of names) {
      const prefix = sourcePrefix(base, name);
      // The keys a source keeps: state, a queue's failed set, a ledger bucket.
      await redis.set(`${prefix}:state:marker`, '{}');
      await redis.zadd(`${prefix}:push-entrances:failed`, 1, 'job-1');
      for (let i = 0; i < 30; i++) await redis.set(`${prefix}:state:ledger:entrances:m${i}`, 'x');
    }
    await redis.set(`${base}:state:marker`, '{}');
  }, 120_000);

  afterAll(async () => {
    await redis?.quit().catch(() => undefined);
    await cluster?.close();
  });

  it('finds every source prefix on the master holding it, and purges one without touching the others', async () => {
    const owners = new Set<number>();
    for (const name of names)
      owners.add((await cluster.ownerOf(`${sourcePrefix(base, name)}:x`)).master.port);
    // The hash tags spread over more than one master: a scan of one node would miss some.
    expect(owners.size).toBeGreaterThan(1);

    const found = await sourcePrefixesInRedis(redis, base);
    expect(found).toEqual(names.map((name) => ({ name, prefix: sourcePrefix(base, name), keys: 32 })));
    const bravo = sourcePrefix(base, 'bravo');
    expect(await hasState(redis, bravo)).toBe(true);
    expect(await failedJobCount(redis, bravo)).toBe(1);
    expect(await countKeys(redis, bravo)).toBe(32);

    expect(await deletePrefix(redis, bravo)).toBe(32);
    expect(await countKeys(redis, bravo)).toBe(0);
    expect(await hasState(redis, bravo)).toBe(false);
    const left = await sourcePrefixesInRedis(redis, base);
    expect(left.map((f) => [f.name, f.keys])).toEqual(names.filter((n) => n !== 'bravo').map((n) => [n, 32]));
    expect(await redis.exists(`${base}:state:marker`)).toBe(1);
  }, 60_000);

  it('finds a source recorded under a prefix of its own (redisPrefix), and forgets it once purged', async () => {
    const own = `{${uniqueName('legacy')}}`;
    await redis.set(`${own}:state:marker`, '{}');
    await redis.zadd(`${own}:push-entrances:failed`, 1, 'job-1');
    const names = async () => (await sourcePrefixesInRedis(redis, base)).map((f) => f.name);
    // Not under the base: a scan of the base's source prefixes cannot see it.
    expect(await names()).not.toContain('golf');
    expect(await prefixOfSource(redis, base, 'golf')).toBe(sourcePrefix(base, 'golf'));

    await recordSourcePrefix(redis, base, 'golf', own);
    // A source recorded at the prefix under the base is found once, as before.
    await recordSourcePrefix(redis, base, 'alpha', sourcePrefix(base, 'alpha'));
    expect(await prefixOfSource(redis, base, 'golf')).toBe(own);
    const found = await sourcePrefixesInRedis(redis, base);
    expect(found.filter((f) => f.name === 'golf')).toEqual([{ name: 'golf', prefix: own, keys: 2 }]);
    expect(found.filter((f) => f.name === 'alpha')).toEqual([
      { name: 'alpha', prefix: sourcePrefix(base, 'alpha'), keys: 32 },
    ]);

    expect(await deletePrefix(redis, own)).toBe(2);
    await forgetSourcePrefix(redis, base, 'golf');
    expect(await names()).not.toContain('golf');
    expect(await prefixOfSource(redis, base, 'golf')).toBe(sourcePrefix(base, 'golf'));
  }, 60_000);
});
