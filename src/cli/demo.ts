/**
 * `demo`: the whole thing on one machine with only a local MariaDB and Redis: a demo vendor
 * database (created, or recreated, and seeded), the ISP simulator, the traffic generator, the
 * worker with every role and the dashboard, all in this process, until Ctrl-C or `--duration`.
 * It prints where to look and, at the end, what reached the simulator.
 *
 * Fresh each time: the demo's own Redis prefix (default `{isp-demo}`) is cleared at start, and the
 * simulator/client credentials are random per run (no secret in any file). Writes only to a demo
 * database (the vendor demo tools refuse any database without their marker). A demo already
 * running on the same prefix or database makes this one refuse before it clears anything
 * (demo-lock.ts): two demos run side by side only with their own prefix, database and ports.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { readiness } from '../../jobs/readiness.js';
import { checkRedis } from '../../jobs/redis-preflight.js';
import { onShutdown } from '../../jobs/shutdown.js';
import { ROLES, startWorkers } from '../../jobs/workers.js';
import { type Config, loadConfig } from '../config/index.js';
import { createLogger } from '../log.js';
import { singleSource } from '../pipeline/fleet-view.js';
import { pendingDepth } from '../pipeline/queues.js';
import { createRedisClient, scanKeys } from '../pipeline/redis-options.js';
import { createRuntime, type Runtime } from '../pipeline/runtime.js';
import { forgetStateEvidence } from '../pipeline/state-guard.js';
import { redactUrl } from '../redact.js';
import type { TrafficCounts } from '../sim/demo-vendor/index.js';
import { DEMO_STYLES, type DemoStyleName } from '../sim/demo-vendor/style.js';
import type { SimStats } from '../sim/isp/index.js';
import { parseDuration, port, positiveNumber, positiveWhole } from './args.js';
import { claimDemo } from './demo-lock.js';
import { applyMemorySettings } from './memory.js';

export const DEMO_DB_URL = 'mysql://root@127.0.0.1:3306/isp_park_demo';
export const DEMO_PREFIX = '{isp-demo}';

interface DemoFlags {
  url: string;
  style: DemoStyleName;
  simPort?: number;
  webPort?: number;
  rate: number;
  duration?: number;
  prefix: string;
  lots: number;
  visits: number;
  redisUrl?: string;
}

/** Environment variables the demo honours (ports, Redis, log level); the rest it sets itself. */
const EVENT_STREAMS = ['entrances', 'departures'] as const;

const DEMO_ENV = ['SIM_PORT', 'WEB_PORT', 'WEB_HOST', 'REDIS_URL', 'LOG_LEVEL'];

export function demoCommand(): Command {
  return new Command('demo')
    .description('run everything locally: demo vendor DB + traffic, ISP simulator, worker and dashboard')
    .option('--url <url>', 'demo vendor database (created or recreated; must be a demo or new)', DEMO_DB_URL)
    .addOption(
      new Option('--style <style>', 'vendor schema style')
        .choices(DEMO_STYLES as unknown as string[])
        .default('visit-table'),
    )
    .option('--sim-port <port>', 'ISP simulator port, 0 = any free one (default config sim.port)', port)
    .option('--web-port <port>', 'dashboard port, 0 = any free one (default config web.port)', port)
    .option('--rate <n>', 'vendor events (entrances + departures) per second', positiveNumber, 5)
    .option(
      '--duration <time>',
      'stop by itself after this long (15, 90s, 5m); default: until Ctrl-C',
      parseDuration,
    )
    .option('--prefix <prefix>', 'Redis key prefix of the demo (cleared at start)', DEMO_PREFIX)
    .option('--lots <n>', 'parking lots', positiveWhole, 10)
    .option('--visits <n>', 'historical visits seeded', positiveWhole, 2000)
    .option('--redis-url <url>', 'Redis (default env REDIS_URL or redis://127.0.0.1:6379)')
    .action(async (flags: DemoFlags) => {
      await runDemo(flags);
    });
}

async function runDemo(flags: DemoFlags): Promise<void> {
  // Loaded here, not at the top: src/cli.ts builds every command at start, and the simulator
  // (fastify), the seeder (sharp) and the dashboard would otherwise sit in every process.
  const [{ startSimulator }, { createDemoSchema, presetFile, seedDemo, startTraffic }, { startDashboard }] =
    await Promise.all([
      import('../sim/isp/index.js'),
      import('../sim/demo-vendor/index.js'),
      import('../web/dashboard.js'),
    ]);
  if (flags.prefix === '{isp}')
    throw new Error('the demo clears its Redis prefix at start: refusing "{isp}", the deployment default');
  const started = Date.now();
  const env = Object.fromEntries(DEMO_ENV.map((k) => [k, process.env[k]]).filter(([, v]) => v));
  const preset = presetFile(flags.style);
  const base = loadConfig({ files: [preset], env, overrides: { vendor: { url: flags.url } } });
  const redisUrl = flags.redisUrl ?? base.redis.url;
  const logLevel = process.env.LOG_LEVEL ? base.log.level : 'warn';
  const logger = createLogger(logLevel, 'isp-demo');

  // Claimed before anything is cleared: a second demo on the same prefix or database refuses here.
  const lock = await claimDemo(redisUrl, flags.prefix, flags.url);
  await freshRedisPrefix(redisUrl, flags.prefix).catch(async (error) => {
    await lock.release();
    throw error;
  });
  // A deliberate fresh start: the evidence of the last demo's state would read as a loss.
  forgetStateEvidence({ ...base, redis: { ...base.redis, url: redisUrl, prefix: flags.prefix } });
  console.log(`vendor database ${redactUrl(flags.url)} (${flags.style}): creating and seeding ...`);
  const photoDir = mkdtempSync(join(tmpdir(), 'isp-demo-photos-'));
  const seeded = await (async () => {
    await createDemoSchema(flags.url, flags.style, { drop: true });
    return seedDemo(flags.url, flags.style, {
      lots: flags.lots,
      visits: flags.visits,
      days: 3,
      photoRows: Math.min(200, flags.visits),
      photoDir,
      seed: Number.parseInt(randomBytes(3).toString('hex'), 16),
    });
  })().catch(async (error: Error & { code?: string }) => {
    rmSync(photoDir, { recursive: true, force: true });
    await lock.release();
    const hint = error.code === 'ECONNREFUSED' ? ' (is MariaDB running? see .ci/run)' : '';
    throw new Error(`demo vendor database ${redactUrl(flags.url)}: ${error.message}${hint}`);
  });
  console.log(
    `  ${seeded.lots.length} lots, ${seeded.entrances} entrances, ${seeded.departures} departures, ` +
      `${seeded.photos} photos (${seeded.ms} ms)`,
  );

  // Random per run: the simulator accepts exactly the pair the worker is given.
  const clientId = `demo-${randomBytes(4).toString('hex')}`;
  const clientSecret = randomBytes(18).toString('base64url');
  const sim = await startSimulator({
    host: base.sim.host,
    port: flags.simPort ?? base.sim.port,
    clientId,
    clientSecret,
  }).catch(async (error: Error) => {
    await lock.release();
    throw new Error(`cannot start the ISP simulator: ${error.message} (pick another port with --sim-port)`);
  });

  const config: Config = loadConfig({
    files: [preset],
    env,
    overrides: {
      vendor: { url: flags.url },
      isp: { baseUrl: sim.url, auth: { clientId, clientSecret } },
      redis: { url: redisUrl, prefix: flags.prefix },
      photo: { fileRoot: photoDir },
      ...(flags.webPort !== undefined ? { web: { port: flags.webPort } } : {}),
      log: { level: logLevel },
    },
  });
  applyMemorySettings(config.memory);
  const rt = createRuntime(config, { logger });
  const startedAt = Date.now();
  const running = await startWorkers(rt, new Set(ROLES));
  const fleet = singleSource(rt, () => readiness(rt, { ...running, startedAt }), startedAt);
  const web = await startDashboard(fleet).catch(async (error: Error) => {
    await running.close();
    await rt.close();
    await sim.close();
    await lock.release();
    throw new Error(`cannot start the dashboard: ${error.message} (pick another port with --web-port)`);
  });
  const traffic = await startTraffic(flags.url, flags.style, {
    ratePerSecond: flags.rate,
    photoDir,
    record: false,
    seed: Number.parseInt(randomBytes(3).toString('hex'), 16),
  });

  console.log('');
  console.log('isp-park-sync demo is running');
  console.log(`  dashboard        ${web.url}/   (queues: ${web.url}/admin/queues)`);
  console.log(`  ISP simulator    ${sim.url}/_sim/stats`);
  console.log(`  vendor traffic   ${flags.rate} events/s into ${redactUrl(flags.url)}`);
  console.log(
    `  CLI on the demo  REDIS_PREFIX='${flags.prefix}' VENDOR_DB_URL=${redactUrl(flags.url)} ` +
      `ISP_SYNC_CONFIG=config/presets/${flags.style}.yaml npx isp-park-sync status --no-probe`,
  );
  console.log('  tests            npm test   (needs the same local MariaDB and Redis)');
  console.log(flags.duration ? `stopping by itself after ${flags.duration / 1000} s` : 'Ctrl-C stops');

  const ticker = setInterval(() => {
    console.log(`[${Math.round((Date.now() - started) / 1000)} s] ${receivedLine(sim.state.stats())}`);
  }, 10_000);
  ticker.unref();

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(ticker);
      const report = await traffic.stop();
      const stoppedAt = Math.ceil(Date.now() / 1000);
      const maxMs = (config.vendor.commitLagSeconds + 20) * 1000;
      console.log(
        `stopping: traffic stopped; letting the worker deliver the last events (up to ${maxMs / 1000} s; ` +
          'Ctrl-C again exits at once)',
      );
      const drained = await drain(rt, stoppedAt, maxMs).catch(() => false);
      if (!drained) console.log('  (the worker had not caught up when the wait ended)');
      const stats = sim.state.stats();
      await web.close();
      await running.close();
      await rt.close();
      await sim.close();
      await lock.release();
      rmSync(photoDir, { recursive: true, force: true });
      const vendorTotals = {
        entrances: seeded.entrances + report.counts.entrances,
        departures: seeded.departures + report.counts.departures,
      };
      console.log(summary(stats, report.counts, vendorTotals, Date.now() - started));
    })();
    return stopping;
  };
  onShutdown(logger, stop);
  if (flags.duration) {
    setTimeout(() => {
      stop().then(
        () => process.exit(0),
        (error) => {
          console.error(`error while stopping: ${(error as Error).message}`);
          process.exit(1);
        },
      );
    }, flags.duration);
  }
}

/** Clears the demo's prefix so every demo starts fresh (checkpoints, ledger, queues). */
async function freshRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = createRedisClient(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  try {
    await redis.connect().catch((error: Error) => {
      throw new Error(
        `Redis is not reachable at ${redactUrl(url)} (${error.message}): start it, or pass --redis-url`,
      );
    });
    await checkRedis(redis);
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    // One DEL per key, on the node that holds it: a cluster refuses a DEL of keys in several slots.
    for await (const { client, keys } of scanKeys(redis, pattern)) {
      const pipeline = client.pipeline();
      for (const key of keys) pipeline.del(key);
      await pipeline.exec();
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * Lets the worker deliver what the traffic wrote: waits until both event streams have read past
 * `stoppedAt` (rows become readable only after the commit-lag guard) and every push queue is empty,
 * or `maxMs` passes. Says whether it got there.
 */
async function drain(rt: Runtime, stoppedAt: number, maxMs: number): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    const read = await Promise.all(EVENT_STREAMS.map((s) => rt.progress.caughtUp(s)));
    const depths = await Promise.all(Object.values(rt.queues.push).map((q) => pendingDepth(q)));
    if (read.every((r) => r !== undefined && r > stoppedAt) && depths.every((d) => d === 0)) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

function receivedLine(stats: SimStats): string {
  const r = stats.received;
  return (
    `delivered to the ISP simulator: entrances ${r.entrance}, departures ${r.departure}, ` +
    `lots ${r.park}, spot counts ${r['spot-num']}, lot deletions ${r['park-deletion']}`
  );
}

export function summary(
  stats: SimStats,
  traffic: TrafficCounts,
  vendor: { entrances: number; departures: number },
  ms: number,
): string {
  const d = stats.duplicates;
  return [
    `demo summary after ${Math.round(ms / 1000)} s:`,
    `  vendor traffic: ${traffic.entrances} entrances, ${traffic.departures} departures, ` +
      `${traffic.spotChanges} count corrections, ${traffic.errors} errors`,
    `  vendor database in total: ${vendor.entrances} entrances, ${vendor.departures} departures`,
    `  ${receivedLine(stats)}`,
    `  repeated natural keys at the simulator: entrances ${d.entrance}, departures ${d.departure}; ` +
      `requests ${stats.requests.total} (${stats.requests.rejected} rejected)`,
  ].join('\n');
}
