/**
 * `demo --duration` as a child process, on a database and Redis prefix of the test's own: it
 * creates and seeds the vendor database, runs simulator, traffic, worker and dashboard, shows
 * deliveries on the dashboard's /api/status and the simulator's /_sim/stats while running, and
 * stops by itself with a summary in which every vendor event reached the simulator.
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { waitFor } from '../helpers/pipeline.js';
import { deleteKeys, TEST_MYSQL_URL, TEST_REDIS_URL, uniqueName } from '../helpers/services.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe('demo command', () => {
  it('runs everything locally, shows deliveries while running and a full summary at the end', async () => {
    const database = uniqueName('ipstest');
    const url = `${TEST_MYSQL_URL.replace(/\/$/, '')}/${database}`;
    const prefix = `{${uniqueName('t')}}`;
    cleanups.push(async () => {
      const conn = await mysql.createConnection({ uri: TEST_MYSQL_URL });
      await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await conn.end();
    });
    cleanups.push(async () => {
      const redis = new Redis(TEST_REDIS_URL);
      await deleteKeys(redis, `${prefix}*`);
      await redis.quit();
    });

    const child = spawn(
      process.execPath,
      [
        'bin/isp-park-sync.js',
        'demo',
        '--duration',
        '15',
        '--url',
        url,
        '--prefix',
        prefix,
        '--redis-url',
        TEST_REDIS_URL,
        '--sim-port',
        '0',
        '--web-port',
        '0',
        '--lots',
        '4',
        '--visits',
        '150',
        '--rate',
        '6',
      ],
      {
        cwd: PROJECT_ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

    const found = await waitFor(
      'the demo to print where to look',
      () => {
        const dashboard = /dashboard\s+(http:\/\/\S+?)\/\s/.exec(stdout)?.[1];
        const sim = /ISP simulator\s+(http:\/\/\S+\/_sim\/stats)/.exec(stdout)?.[1];
        return dashboard && sim ? { dashboard, sim } : undefined;
      },
      45_000,
    );
    const urls = found!;
    expect(stdout).toContain('npm test');

    // While it runs: the simulator has deliveries, and the dashboard's API shows them.
    await waitFor(
      'entrances at the simulator',
      async () => {
        const stats = (await (await fetch(urls.sim)).json()) as { received: Record<string, number> };
        return stats.received.entrance! > 0 && stats.received.park! > 0;
      },
      30_000,
    );
    const status = await fetch(`${urls.dashboard}/api/status`);
    expect(status.status).toBe(200);
    const body = (await status.json()) as {
      streams: Array<{ stream: string; delivered: { lastHour: number } }>;
    };
    expect(body.streams.find((s) => s.stream === 'entrances')!.delivered.lastHour).toBeGreaterThan(0);

    const code = await Promise.race([
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`demo did not stop by itself:\n${stdout}\n${stderr}`)), 60_000),
      ),
    ]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    const summary = stdout.slice(stdout.indexOf('demo summary'));
    const vendor = /vendor database in total: (\d+) entrances, (\d+) departures/.exec(summary);
    const sim =
      /delivered to the ISP simulator: entrances (\d+), departures (\d+), lots (\d+), spot counts (\d+)/.exec(
        summary,
      );
    expect(vendor && sim, summary).toBeTruthy();
    const traffic = /vendor traffic: (\d+) entrances/.exec(summary);
    expect(Number(traffic![1])).toBeGreaterThan(0);
    expect(Number(sim![1])).toBeGreaterThan(0);
    expect(Number(sim![3])).toBe(4);
    // Nothing lost, nothing twice: every vendor event reached the simulator once.
    expect(Number(sim![1]), summary).toBe(Number(vendor![1]));
    expect(Number(sim![2]), summary).toBe(Number(vendor![2]));
    expect(stdout).not.toContain('had not caught up');
  }, 120_000);
});
