/**
 * A Redis that may evict keys would silently lose queued events and checkpoints, so the worker
 * refuses it at start. Runs a private redis-server (the shared one must keep its policy).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedis, RedisPolicyError, redisVersionProblem } from '../../jobs/redis-preflight.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('Redis eviction policy check', () => {
  let server: ChildProcess;
  let client: Redis;
  beforeAll(async () => {
    const port = await freePort();
    server = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'allkeys-lru',
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100 && !(await listening(port)); i++) await new Promise((r) => setTimeout(r, 50));
    client = new Redis({ port, maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await client.quit();
    server.kill('SIGKILL');
  });

  it('refuses allkeys-lru with a message that says what to set', async () => {
    const error = await checkRedis(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisPolicyError);
    expect((error as Error).message).toMatch(/allkeys-lru.*maxmemory-policy noeviction/s);
  });

  it('accepts noeviction', async () => {
    await client.config('SET', 'maxmemory-policy', 'noeviction');
    await expect(checkRedis(client)).resolves.toBeUndefined();
  });

  it('accepts the running server and refuses versions before 6.2 with what to do', async () => {
    await expect(checkRedis(client)).resolves.toBeUndefined();
    expect(redisVersionProblem('6.0.16')).toMatch(/6\.0\.16 is too old.*6\.2 or later.*Upgrade Redis/);
    expect(redisVersionProblem('5.0.7')).toBeDefined();
    for (const ok of ['6.2.0', '6.2.14', '7.0.15', '7.4.1', '8.0.0', '10.1.0'])
      expect(redisVersionProblem(ok)).toBeUndefined();
  });
});
