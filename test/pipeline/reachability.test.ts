/**
 * Calm errors when Redis or the vendor database cannot be reached: the real `start` command in a
 * child process, pointed at a closed port, says per attempt what it tried (host, port, user; never
 * the password) and what to check, waits longer between attempts, and prints no stack trace; a
 * Redis outage under a running worker is a few lines, then one saying it is back; `dry-run`
 * without Redis prints one plain line. OutageLog's folding is checked directly too.
 */
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isConnectionError,
  OutageLog,
  redisTarget,
  retryDelay,
  vendorTarget,
} from '../../src/pipeline/reachability.js';
import { runCli } from '../helpers/cli.js';
import { freePort, killAll, spawnManaged, startPrivateRedis } from '../helpers/processes.js';
import { createTestRedis, TEST_MYSQL_URL, TEST_REDIS_URL } from '../helpers/services.js';

const PASSWORD = 'pa@ss:w/rd%23#x';
const ENCODED = encodeURIComponent(PASSWORD);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await killAll();
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** The environment a deployment gives `start` (every required setting present). */
function startEnv(overrides: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ISP_SYNC_CONFIG: 'config/presets/visit-table.yaml',
    ISP_BASE_URL: 'http://127.0.0.1:9',
    ISP_CLIENT_ID: 'calm-client',
    ISP_CLIENT_SECRET: 'calm-client-secret-value',
    VENDOR_DB_URL: `${TEST_MYSQL_URL.replace(/\/$/, '')}/test`,
    REDIS_URL: TEST_REDIS_URL,
    LOG_LEVEL: 'info',
    ...overrides,
  };
}

function attemptLines(lines: string[], service: string): string[] {
  return lines.filter((l) => l.includes(`"service":"${service}"`) && l.includes('"attempt"'));
}

function expectCalm(lines: string[], attempts: number): void {
  const text = lines.join('\n');
  expect(text).not.toMatch(/^\s+at /m); // no stack frame
  expect(text).not.toContain('Unhandled error event');
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(ENCODED);
  expect(lines.length / attempts).toBeLessThan(5);
}

describe('unreachable services at start', () => {
  it('Redis down: one line per attempt with host, port and advice, growing delays, no stack', async () => {
    const port = await freePort();
    const child = spawnManaged('start', process.execPath, ['bin/isp-park-sync.js', 'start', '--no-web'], {
      env: startEnv({ REDIS_URL: `redis://calm:${ENCODED}@127.0.0.1:${port}/2` }),
    });
    await new Promise((r) => setTimeout(r, 7_500));
    expect(child.running()).toBe(true); // waits for Redis instead of crashing
    await child.stop();
    const lines = child.lines().filter((l) => l.trim() !== '');
    const attempts = attemptLines(lines, 'redis');
    // 1 s, 2 s, 4 s apart: attempts at 0, 1, 3 and 7 s.
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.length).toBeLessThanOrEqual(5);
    expect(attempts[0]).toContain(`127.0.0.1:${port} (db 2, user calm, with a password)`);
    expect(attempts[0]).toContain('ECONNREFUSED');
    expect(attempts[0]).toContain('start Redis or correct the host and port in REDIS_URL');
    expectCalm(lines, attempts.length);
    const times = attempts.map((l) => (JSON.parse(l) as { time: number }).time);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeGreaterThan(gaps[i - 1]! * 1.5);
  }, 30_000);

  it('vendor database down: one line per attempt naming host, port, database and user, no stack', async () => {
    const redis = await createTestRedis('calm');
    cleanups.push(() => redis.cleanup());
    const port = await freePort();
    const child = spawnManaged('start', process.execPath, ['bin/isp-park-sync.js', 'start', '--no-web'], {
      env: startEnv({
        VENDOR_DB_URL: `mysql://reader:${ENCODED}@127.0.0.1:${port}/parking`,
        REDIS_PREFIX: redis.prefix,
      }),
    });
    await child.waitForLine((l) => l.includes('"isp-park-sync started"'), 'start-up line', 45_000);
    await new Promise((r) => setTimeout(r, 7_500));
    await child.stop();
    const lines = child.lines().filter((l) => l.trim() !== '');
    const attempts = attemptLines(lines, 'vendor');
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.length).toBeLessThanOrEqual(5);
    expect(attempts[0]).toContain(`127.0.0.1:${port} (database parking, user reader)`);
    expect(attempts[0]).toContain('VENDOR_DB_URL');
    // Four streams poll every second: without the gate each would fail (and log) every second.
    expect(lines.filter((l) => l.includes('job failed'))).toEqual([]);
    expectCalm(lines, attempts.length);
  }, 60_000);
});

describe('Redis outage under a running worker', () => {
  it('is a few lines while down and one line when back, no stack', async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.close());
    const child = spawnManaged('start', process.execPath, ['bin/isp-park-sync.js', 'start', '--no-web'], {
      env: startEnv({ REDIS_URL: redis.url, REDIS_PREFIX: '{calm}' }),
    });
    await child.waitForLine((l) => l.includes('"isp-park-sync started"'), 'start-up line', 45_000);
    const before = child.lines().length;
    await redis.stop();
    await new Promise((r) => setTimeout(r, 6_000));
    await redis.start();
    await child.waitForLine((l) => l.includes('reachable again'), '"reachable again" line', 20_000);
    await child.stop();
    const during = child
      .lines()
      .slice(before)
      .filter((l) => l.includes('"service":"redis"') || /error/i.test(l));
    // 6 s down with ~30 clients reconnecting every ≤2 s: folded to one line per retry interval.
    expect(during.length).toBeLessThanOrEqual(8);
    expect(during.join('\n')).not.toMatch(/^\s+at /m);
    expect(during.join('\n')).not.toContain('"stack"');
  }, 90_000);
});

describe('dry-run without Redis', () => {
  it('prints one plain line, no client noise', async () => {
    const port = await freePort();
    const run = await runCli(
      ['dry-run', 'entrances'],
      startEnv({ REDIS_URL: `redis://:${ENCODED}@127.0.0.1:${port}` }),
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`Redis at 127.0.0.1:${port}`);
    expect(lines[0]).toContain('ECONNREFUSED');
    expect(run.stderr).not.toContain(PASSWORD);
    expect(run.stderr).not.toContain(ENCODED);
  });
});

describe('OutageLog', () => {
  function capture() {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    return { logger, lines };
  }

  it('folds the errors of many clients into one line per retry interval, then says when back', () => {
    const { logger, lines } = capture();
    let now = 0;
    const log = new OutageLog(logger, { redis: 'h:1 (db 0)', vendor: 'v' }, () => now);
    const refused = Object.assign(new Error('connect ECONNREFUSED h:1'), { code: 'ECONNREFUSED' });
    for (let t = 0; t < 10_000; t += 100) {
      now = t;
      for (let client = 0; client < 30; client++) log.clientError('redis', refused);
    }
    // Intervals of 1, 2, 4 s from 0: lines at 0, 1, 3 and 7 s.
    expect(lines.filter((l) => l.level === 40)).toHaveLength(4);
    log.recovered('redis');
    expect(lines.at(-1)?.msg).toContain('reachable again');
    log.recovered('redis');
    expect(lines.filter((l) => l.msg.includes('reachable again'))).toHaveLength(1);
  });

  it('lets one caller try per interval and folds attempts begun before the outage was known', () => {
    const { logger, lines } = capture();
    let now = 0;
    const log = new OutageLog(logger, { redis: 'r', vendor: 'v' }, () => now);
    const refused = new Error('connect ECONNREFUSED');
    // Four polls start together while all is well, all fail.
    expect([1, 2, 3, 4].map(() => log.mayAttempt('vendor'))).toEqual([true, true, true, true]);
    for (let i = 0; i < 4; i++) log.attemptFailed('vendor', refused);
    expect(lines).toHaveLength(1);
    expect(log.mayAttempt('vendor')).toBe(false); // within the first second
    now = retryDelay(1);
    expect(log.mayAttempt('vendor')).toBe(true);
    expect(log.mayAttempt('vendor')).toBe(false); // one at a time
    log.release('vendor'); // it failed otherwise: the next caller may try
    expect(log.mayAttempt('vendor')).toBe(true);
    log.attemptFailed('vendor', refused);
    expect(lines).toHaveLength(2);
    expect(lines[1]?.msg).toContain('next in 2 s');
  });

  it('logs an error that is not about the connection in full', () => {
    const { logger, lines } = capture();
    const log = new OutageLog(logger, { redis: 'r', vendor: 'v' });
    log.clientError('redis', new Error('ERR unknown command'), {}, 'worker error');
    expect(lines[0]).toMatchObject({ level: 50, msg: 'worker error' });
    expect(isConnectionError(new Error('ERR unknown command'))).toBe(false);
  });

  it('names targets without their password, whatever it holds', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 30 }), (password) => {
        const encoded = encodeURIComponent(password);
        for (const target of [
          redisTarget(`redis://user:${encoded}@host.example:6380/3`),
          vendorTarget(`mysql://user:${encoded}@host.example:3307/db`),
        ]) {
          expect(target).toContain('host.example');
          if (password.length >= 4) {
            expect(target).not.toContain(password);
            expect(target).not.toContain(encoded);
          }
        }
      }),
    );
  });
});
