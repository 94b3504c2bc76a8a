import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  describeRedisTarget,
  hashTag,
  loadConfig,
  parseRedisUrl,
  RedisUrlError,
} from '../../src/config/index.js';

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig({ env });
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('REDIS_URL', () => {
  it('reads one server as before: host, port, db, credentials, TLS', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({
      cluster: false,
      nodes: [{ host: '127.0.0.1', port: 6379 }],
      db: 0,
      tls: false,
    });
    expect(parseRedisUrl('rediss://app:p%40ss@redis.example/3')).toEqual({
      cluster: false,
      nodes: [{ host: 'redis.example', port: 6379 }],
      username: 'app',
      password: 'p@ss',
      db: 3,
      tls: true,
    });
    expect(parseRedisUrl('redis://[::1]:6380').nodes).toEqual([{ host: '::1', port: 6380 }]);
  });

  it('reads a cluster from any number of its nodes, with credentials and TLS', () => {
    expect(parseRedisUrl('redis+cluster://h1:7000,h2:7001, h3')).toEqual({
      cluster: true,
      nodes: [
        { host: 'h1', port: 7000 },
        { host: 'h2', port: 7001 },
        { host: 'h3', port: 6379 },
      ],
      db: 0,
      tls: false,
    });
    const target = parseRedisUrl('rediss+cluster://:p@ss:w%2Frd@10.0.0.1:7000,[fd00::2]:7000/0');
    expect(target).toMatchObject({ cluster: true, tls: true, password: 'p@ss:w/rd', db: 0 });
    expect(target.nodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'fd00::2', port: 7000 },
    ]);
    expect(parseRedisUrl('REDIS+CLUSTER://user:pw@h1:7000').username).toBe('user');
  });

  it('refuses what a cluster cannot be, saying how to write it', () => {
    expect(() => parseRedisUrl('redis+cluster://h1:7000/2')).toThrow(/only database 0.*"\/2"/);
    expect(() => parseRedisUrl('redis+cluster://h1:7000,h2:port')).toThrow(RedisUrlError);
    expect(() => parseRedisUrl('redis+cluster://h1:7000,,h2:7001')).toThrow(/node "" is not host:port/);
    expect(() => parseRedisUrl('redis+cluster://h1:70000')).toThrow(/not host:port/);
    expect(() => parseRedisUrl('redis://h1:7000,h2:7001')).toThrow(
      /redis\+cluster:\/\/h1:7000,h2:7001,h3:7002/,
    );
    expect(() => parseRedisUrl('http://h1')).toThrow(/must be a redis:\/\//);
  });

  it('describes the target without its password', () => {
    expect(describeRedisTarget(parseRedisUrl('redis://u:secret@h:6380/2'))).toBe(
      'h:6380 (db 2, user u, with a password)',
    );
    const cluster = describeRedisTarget(parseRedisUrl('redis+cluster://:secret@h1:7000,[::1]:7001'));
    expect(cluster).toBe('cluster h1:7000, [::1]:7001 (with a password)');
    expect(cluster).not.toContain('secret');
  });

  it('finds the hash tag as Redis Cluster does: the first {…} that is not empty', () => {
    expect(hashTag('{isp}')).toBe('isp');
    expect(hashTag('park{isp}')).toBe('isp');
    expect(hashTag('{a}{b}')).toBe('a');
    expect(hashTag('{{a}')).toBe('{a');
    expect(hashTag('isp')).toBeUndefined();
    expect(hashTag('{}isp')).toBeUndefined();
    expect(hashTag('{isp')).toBeUndefined();
  });

  it('on a cluster, refuses a prefix without a hash tag at load, naming the key', () => {
    const cluster = 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001';
    expect(configError({ REDIS_URL: cluster, REDIS_PREFIX: 'isp' })).toMatch(
      /redis\.prefix.*no \{hash tag\}.*\{isp\}/s,
    );
    expect(configError({ REDIS_URL: cluster, REDIS_PREFIX: '{}isp' })).toMatch(/redis\.prefix/);
    expect(loadConfig({ env: { REDIS_URL: cluster } }).redis.prefix).toBe('{isp}');
    expect(loadConfig({ env: { REDIS_URL: cluster, REDIS_PREFIX: 'park{isp}' } }).redis.prefix).toBe(
      'park{isp}',
    );
    // One server keeps accepting any prefix, as before.
    expect(loadConfig({ env: { REDIS_PREFIX: 'isp' } }).redis.prefix).toBe('isp');
    expect(configError({ REDIS_URL: 'redis+cluster://h1:7000/1' })).toMatch(/redis\.url.*only database 0/s);
  });
});
