/**
 * One benchmark set-up: a demo vendor database of the bench's own (real MariaDB), a Redis prefix
 * of its own, the ISP simulator over loopback HTTP (in this process, `light` storage so a million
 * records fit), and the configuration a child worker process is started with (a JSON config file
 * plus the environment, as a deployment would have it). Torn down by `close()`.
 *
 * Touches no database, user or key but its own; credentials reach the worker only through its
 * environment, never through the config file it writes.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../../src/config/index.js';
import { createDemoSchema, type DemoStyleName, demoConfig } from '../../../src/sim/demo-vendor/index.js';
import { type FaultsPatch, type Simulator, startSimulator } from '../../../src/sim/isp/index.js';
import { deleteKeys } from '../../helpers/services.js';
import { undoOnInterrupt } from './cleanup.js';
import { summarizeProfiles } from './profile.js';
import {
  BENCH_PREFIX,
  type BenchDatabase,
  type BenchRedis,
  createBenchDatabase,
  createBenchRedis,
} from './services.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

export const CLIENT_ID = 'bench-client';
export const CLIENT_SECRET = 'bench-secret-never-logged';

export interface StackOptions {
  style: DemoStyleName;
  /** Keep the preset's photo columns on the event streams (otherwise no photo is fetched). */
  photos: boolean;
  /** Deep-merged into the worker's config (pipeline, photo, vendor settings; never secrets). */
  config?: Record<string, unknown>;
  faults?: FaultsPatch;
  /**
   * Connect the worker as a user of its own with SELECT on the database only (a read-only user, as
   * a deployment should have), so the server's per-user statistics count the worker's queries alone.
   */
  readOnlyUser?: boolean;
  /** Where the worker sends (e.g. a discard sink, lib/discard-sink.ts); default the simulator. */
  ispUrl?: string;
}

export interface Stack {
  style: DemoStyleName;
  db: BenchDatabase;
  redis: BenchRedis;
  sim: Simulator;
  /** The worker's config as it will parse it (for the bench's own use of the same settings). */
  config: Config;
  /** Picture folder (PHOTO_ROOT) for file photos. */
  photoDir: string;
  /** The worker's MariaDB user, when `readOnlyUser`. */
  user?: string;
  /** Environment of a child worker. */
  env(): NodeJS.ProcessEnv;
  startWorker(options?: { roles?: string[]; webPort?: number; label?: string }): WorkerProcess;
  /** Stops the workers and deletes every key under the prefix (the next run starts from nothing). */
  resetRedis(): Promise<void>;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const db = await createBenchDatabase();
  const redis = await createBenchRedis();
  const dir = mkdtempSync(join(tmpdir(), 'ipsbench-'));
  const photoDir = join(dir, 'photos');
  const sim = await startSimulator({
    storage: 'light',
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    faults: options.faults ?? {},
  });
  await createDemoSchema(db.url, options.style);
  const overrides = options.config ?? {};
  const config = demoConfig(options.style, db.url, {
    ...overrides,
    isp: { baseUrl: options.ispUrl ?? sim.url, auth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } },
    redis: { url: redis.url, prefix: redis.prefix },
    photo: { ...((overrides.photo as object) ?? {}), fileRoot: photoDir },
  });
  if (!options.photos) {
    delete config.streams.entrances.photo;
    delete config.streams.departures.photo;
  }
  // What the child reads: the streams (with or without photos) and the bench's overrides. URLs,
  // credentials and the prefix come from the environment, as in a deployment.
  const file = join(dir, 'worker-config.json');
  const { isp: _isp, redis: _redis, photo: _photo, ...rest } = overrides;
  writeFileSync(
    file,
    JSON.stringify({ ...rest, streams: config.streams, photo: { ...((_photo as object) ?? {}) } }, null, 2),
  );
  let workerUrl = db.url;
  let user: string | undefined;
  if (options.readOnlyUser) {
    user = `${BENCH_PREFIX}_${process.pid}_${randomBytes(3).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await db.admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password]);
    await db.admin.query(`GRANT SELECT ON \`${db.name}\`.* TO ?@?`, [user, '%']);
    const u = new URL(db.url);
    u.username = user;
    u.password = password;
    workerUrl = u.toString();
  }
  const workers: WorkerProcess[] = [];
  // The workers' evidence of their Redis state (state-loss detection) belongs to this stack: a run
  // that starts again from an empty prefix is a fresh start, not a lost state.
  const stateDir = mkdtempSync(join(tmpdir(), 'isp-bench-state-'));
  const stopWorkers = async () => {
    const stopped = workers.splice(0);
    await Promise.all(stopped.map((w) => w.stop(10_000).catch(() => undefined)));
    const dir = process.env.BENCH_PROFILE_DIR;
    if (dir) for (const w of stopped) printProfile(dir, w);
  };
  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ISP_SYNC_CONFIG: file,
    ISP_BASE_URL: options.ispUrl ?? sim.url,
    ISP_CLIENT_ID: CLIENT_ID,
    ISP_CLIENT_SECRET: CLIENT_SECRET,
    VENDOR_DB_URL: workerUrl,
    REDIS_URL: redis.url,
    REDIS_PREFIX: redis.prefix,
    PHOTO_ROOT: photoDir,
    LOG_LEVEL: 'warn',
    STATE_DIR: stateDir,
  });
  let closed = false;
  const stack: Stack = {
    style: options.style,
    db,
    redis,
    sim,
    config,
    photoDir,
    ...(user ? { user } : {}),
    env,
    startWorker(options = {}) {
      const worker = startWorkerProcess({ env: env(), ...options });
      workers.push(worker);
      return worker;
    },
    async resetRedis() {
      await stopWorkers();
      await deleteKeys(redis.client, `${redis.prefix}*`);
      rmSync(stateDir, { recursive: true, force: true });
      mkdirSync(stateDir, { recursive: true });
    },
    async close() {
      if (closed) return;
      closed = true;
      done();
      await stopWorkers();
      if (user) await db.admin.query('DROP USER IF EXISTS ?@?', [user, '%']).catch(() => undefined);
      await redis.cleanup();
      await sim.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  const done = undoOnInterrupt(() => stack.close());
  return stack;
}

/**
 * Prints where a stopped worker's CPU went (`--profile`: its --cpu-prof file): by module, and by
 * the function of ours each sample was spent for. Only its `profileWindow` when it has one.
 */
export function printProfile(dir: string, worker: WorkerProcess): void {
  const exitedAt = worker.exitedAt();
  const window = worker.profileWindow;
  const tail =
    window && exitedAt !== undefined
      ? { fromMsBeforeEnd: exitedAt - window.from, toMsBeforeEnd: exitedAt - window.to }
      : undefined;
  const text = (shares: Array<[string, number]>) =>
    shares.map(([what, share]) => `${(share * 100).toFixed(1)}% ${what}`).join(', ');
  for (const { file, shares, callers, seconds } of summarizeProfiles(dir, 12, `.${worker.pid}.`, tail)) {
    const span = tail ? `${seconds.toFixed(1)} s window` : file;
    console.log(`    profile of worker ${worker.pid} (${worker.label}, ${span}): ${text(shares)}`);
    console.log(`      spent for (innermost function of ours on the stack): ${text(callers)}`);
  }
}

/** Resolves when `check` is true; gives up at `deadline` (epoch ms) and returns false. */
export async function until(check: () => boolean | Promise<boolean>, deadline: number, everyMs = 50) {
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}
