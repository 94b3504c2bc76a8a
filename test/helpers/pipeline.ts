/**
 * An end-to-end harness: a demo vendor database of the chosen style (real MariaDB), the ISP
 * simulator over real HTTP, and the worker (real BullMQ on real Redis) in this process, all with
 * names of the test's own, torn down afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Role, type RunningWorkers, startWorkers } from '../../jobs/workers.js';
import type { Config } from '../../src/config/index.js';
import { deepMerge } from '../../src/config/index.js';
import { silentLogger } from '../../src/log.js';
import { flushLots } from '../../src/pipeline/lots/flush.js';
import { lotFlushDeps } from '../../src/pipeline/lots/flush-deps.js';
import { pollLots } from '../../src/pipeline/lots/poll.js';
import { lotPollDeps } from '../../src/pipeline/lots/poll-deps.js';
import { createRuntime, type Runtime } from '../../src/pipeline/runtime.js';
import {
  createDemoSchema,
  type DemoStyleName,
  demoConfig,
  type SeedOptions,
  seedDemo,
} from '../../src/sim/demo-vendor/index.js';
import type { FaultsPatch } from '../../src/sim/isp/faults.js';
import { type Simulator, startSimulator } from '../../src/sim/isp/index.js';
import type { StrictPatch } from '../../src/sim/isp/strict.js';
import {
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  type TestDatabase,
  type TestRedis,
} from './services.js';

export interface Harness {
  style: DemoStyleName;
  db: TestDatabase;
  redis: TestRedis;
  sim: Simulator;
  config: Config;
  photoDir: string;
  rt: Runtime;
  workers?: RunningWorkers;
  start(roles?: Role[]): Promise<void>;
  /**
   * Reads the lots and sends them to ISP now, as a worker's first lot poll does (events are read
   * only once the lots were sent): for a test that starts an ISP outage before the workers.
   */
  registerLots(): Promise<void>;
  stopWorkers(): Promise<void>;
  /** Environment for a child `isp-park-sync start` process with this harness's config. */
  childEnv(): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export interface HarnessOptions {
  style?: DemoStyleName;
  seed?: SeedOptions | false;
  faults?: FaultsPatch;
  /** The simulator's strictness switches (all off unless given). */
  strict?: StrictPatch;
  config?: Record<string, unknown>;
  /** Statements every vendor session of the worker runs first (a vendor clock set ahead). */
  vendorInitSql?: string[];
}

export const TEST_STATE_DIR = join(tmpdir(), 'isp-park-sync-test-state');

export const CLIENT_ID = 'e2e-client';
export const CLIENT_SECRET = 'e2e-secret-never-logged';

/**
 * How long the test traffic holds a late transaction open, at most (the generator holds each
 * between half of it and all of it). A row is stamped to the whole second and committed that much
 * later, so stamp to commit takes up to 1 s + this; FAST's 2 s commit-lag guard must outlast it on
 * a loaded machine too, where a timer or a commit runs late. At 800 ms the margin was 0.2 s, and a
 * fresh-clone run missed one entrance committed at the end of the traffic.
 */
export const LATE_HOLD_MS = 400;

/** Fast polling and short backoffs, so a test sees the pipeline work in seconds. */
export const FAST: Record<string, unknown> = {
  // Above the traffic's longest held transaction (LATE_HOLD_MS) plus 1 s: stamps are whole
  // seconds, and the guard compares them with the server clock to the millisecond.
  vendor: { commitLagSeconds: 2 },
  streams: {
    parks: { pollEveryMs: 500 },
    spotNums: { pollEveryMs: 300 },
    entrances: { pollEveryMs: 300 },
    departures: { pollEveryMs: 300 },
  },
  pipeline: { backoffMs: 200, maxBackoffMs: 2_000 },
  isp: { timeoutMs: 3_000 },
  // Evidence of Redis state (src/pipeline/state-guard.ts) of test runs stays out of the home folder;
  // each test has its own prefix, hence its own file.
  redis: { stateDir: TEST_STATE_DIR },
};

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const style = options.style ?? 'visit-table';
  const db = await createTestDatabase();
  const redis = await createTestRedis();
  const photoDir = mkdtempSync(join(tmpdir(), 'ips-photos-'));
  const sim = await startSimulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    faults: options.faults ?? {},
    strict: options.strict ?? {},
  });
  await createDemoSchema(db.url, style);
  if (options.seed !== false) await seedDemo(db.url, style, { photoDir, ...(options.seed ?? {}) });
  const config = demoConfig(
    style,
    db.url,
    deepMerge(
      deepMerge(FAST, {
        isp: { baseUrl: sim.url, auth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } },
        redis: { url: redis.url, prefix: redis.prefix },
        photo: { fileRoot: photoDir },
        log: { level: 'warn' },
      }),
      options.config ?? {},
    ),
  );
  const rt = createRuntime(config, {
    logger: silentLogger,
    ...(options.vendorInitSql ? { vendorInitSql: options.vendorInitSql } : {}),
  });
  const harness: Harness = {
    style,
    db,
    redis,
    sim,
    config,
    photoDir,
    rt,
    async start(roles = ['scheduler', 'poller', 'pusher']) {
      harness.workers = await startWorkers(rt, new Set(roles));
    },
    async registerLots() {
      await pollLots(lotPollDeps(rt, 'parks'));
      await rt.progress.setCaughtUp('parks', Math.floor(Date.now() / 1000));
      await flushLots(lotFlushDeps(rt, 'parks', { id: 'test-register-lots' }, false));
    },
    async stopWorkers() {
      await harness.workers?.close();
      harness.workers = undefined;
    },
    childEnv() {
      return {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ISP_SYNC_CONFIG: `config/presets/${style}.yaml`,
        ISP_BASE_URL: sim.url,
        ISP_CLIENT_ID: CLIENT_ID,
        ISP_CLIENT_SECRET: CLIENT_SECRET,
        VENDOR_DB_URL: db.url,
        REDIS_URL: redis.url,
        REDIS_PREFIX: redis.prefix,
        PHOTO_ROOT: photoDir,
        STATE_DIR: TEST_STATE_DIR,
        LOG_LEVEL: 'warn',
      };
    },
    async close() {
      await harness.stopWorkers().catch(() => undefined);
      // Schedulers live in Redis: remove them so nothing keeps adding polls under this prefix.
      for (const q of rt.queues.all()) await q.obliterate({ force: true }).catch(() => undefined);
      await rt.close();
      await deleteKeys(redis.client, `${redis.prefix}*`);
      await redis.cleanup();
      await sim.close();
      await db.drop();
      rmSync(photoDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Polls `check` until it returns a truthy value or the time runs out (then throws with `what`). */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T> | T,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}
