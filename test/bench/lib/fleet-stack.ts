/**
 * A many-source benchmark set-up: one ISP simulator (in this process, light storage), one Redis
 * base prefix of the bench's own, and any number of demo vendor databases, each a source of a
 * sources folder (`ISP_SYNC_SOURCES_DIR`, one JSON file per source) as a deployment would have it.
 * A child worker runs `start` on it, so it runs a Fleet: every source on its own Runtime and
 * workers under its own prefix (`{p}` → `{p@name}`).
 *
 * Two demo databases of one style have the same lot codes, which a fleet refuses: each database's
 * codes get a prefix of their own after seeding (lots and events), which also tells the sources'
 * records apart at the simulator (`receipts`). A database is made before the worker starts (its
 * URL reaches the worker only through `VENDOR_DB_URL__<NAME>`); its source file is written when
 * the source is `enable`d, before or while the worker runs (the fleet adds it then).
 *
 * Touches no database or key but its own; `close()` drops every database and every key under the
 * base prefix and the sources' prefixes.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, sourceEnvSuffix, sourcePrefix } from '../../../src/config/index.js';
import {
  createDemoSchema,
  demoConfig,
  type SeedOptions,
  type SeedReport,
  seedDemo,
} from '../../../src/sim/demo-vendor/index.js';
import { type FaultsPatch, type Simulator, startSimulator } from '../../../src/sim/isp/index.js';
import { deleteKeys } from '../../helpers/services.js';
import { undoOnInterrupt } from './cleanup.js';
import { type BenchDatabase, type BenchRedis, createBenchDatabase, createBenchRedis } from './services.js';
import { CLIENT_ID, CLIENT_SECRET, printProfile } from './stack.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

export interface FleetStackOptions {
  /** Deep-merged into every source's config through the shared config file (pipeline, isp.connections, ...). */
  config?: Record<string, unknown>;
  faults?: FaultsPatch;
}

export interface BenchSource {
  name: string;
  /** Put before every lot code of its database (`ATXL/1` → `<codePrefix>ATXL/1`). */
  codePrefix: string;
  db: BenchDatabase;
  seed: SeedReport;
  /** Its Redis prefix (the base's hash tag with `@name`). */
  prefix: string;
  /** The config the worker will resolve for it (streams without photos). */
  config: Config;
}

export interface FleetStack {
  sim: Simulator;
  redis: BenchRedis;
  /** The sources folder the worker reads and watches. */
  dir: string;
  sources: Map<string, BenchSource>;
  /** Makes, seeds and renames a visit-table database for source `name`; not yet in the folder. */
  addDatabase(name: string, codePrefix: string, seed: SeedOptions): Promise<BenchSource>;
  /** Writes the source's file into the folder (in one rename: the fleet never reads half a file). */
  enable(name: string): void;
  /** Replaces the shared config file's content (for workers started from now on). */
  setSharedConfig(config: Record<string, unknown>): void;
  env(): NodeJS.ProcessEnv;
  startWorker(options?: { label?: string }): WorkerProcess;
  /** Stops the workers, deletes every key of every source and the base prefix, resets the simulator. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startFleetStack(options: FleetStackOptions = {}): Promise<FleetStack> {
  const redis = await createBenchRedis();
  const sim = await startSimulator({
    storage: 'light',
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    faults: options.faults ?? {},
  });
  const root = mkdtempSync(join(tmpdir(), 'ipsbench-fleet-'));
  const dir = join(root, 'sources');
  const stateDir = join(root, 'state');
  const configFile = join(root, 'shared-config.json');
  writeFileSync(configFile, JSON.stringify(options.config ?? {}, null, 2));
  mkdirSync(dir);
  mkdirSync(stateDir);
  const sources = new Map<string, BenchSource>();
  const workers: WorkerProcess[] = [];
  // Every source's keys (`{ipsbench_…@name}…`) and the base prefix's own (`{ipsbench_…}…`).
  const keyPattern = `${redis.prefix.slice(0, -1)}*`;

  const stopWorkers = async () => {
    const stopped = workers.splice(0);
    await Promise.all(stopped.map((w) => w.stop(20_000).catch(() => undefined)));
    const profiles = process.env.BENCH_PROFILE_DIR;
    if (profiles) for (const w of stopped) printProfile(profiles, w);
  };

  const env = (): NodeJS.ProcessEnv => {
    const out: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ISP_SYNC_CONFIG: configFile,
      ISP_SYNC_SOURCES_DIR: dir,
      ISP_BASE_URL: sim.url,
      ISP_CLIENT_ID: CLIENT_ID,
      ISP_CLIENT_SECRET: CLIENT_SECRET,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      LOG_LEVEL: 'warn',
      STATE_DIR: stateDir,
    };
    for (const source of sources.values())
      out[`VENDOR_DB_URL__${sourceEnvSuffix(source.name)}`] = source.db.url;
    return out;
  };

  let closed = false;
  const stack: FleetStack = {
    sim,
    redis,
    dir,
    sources,
    async addDatabase(name, codePrefix, seedOptions) {
      const db = await createBenchDatabase();
      try {
        await createDemoSchema(db.url, 'visit-table');
        const seed = await seedDemo(db.url, 'visit-table', { photos: false, ...seedOptions });
        // The bench's own copy: lot codes of its own, in the lots and in the events that name them.
        await db.admin.query('UPDATE parkinfo SET park_no = CONCAT(?, park_no)', [codePrefix]);
        await db.admin.query('UPDATE car_inout SET park_no = CONCAT(?, park_no)', [codePrefix]);
        const config = demoConfig('visit-table', db.url, {
          source: { name },
          ...(options.config ?? {}),
        });
        delete config.streams.entrances.photo;
        delete config.streams.departures.photo;
        const source: BenchSource = {
          name,
          codePrefix,
          db,
          seed,
          prefix: sourcePrefix(redis.prefix, name),
          config,
        };
        sources.set(name, source);
        return source;
      } catch (error) {
        await db.drop();
        throw error;
      }
    },
    enable(name) {
      const source = sources.get(name);
      if (!source) throw new Error(`no database for source ${name}`);
      // The mapping only: URL and credentials come from the environment, as in a deployment.
      const hidden = join(dir, `.${name}.json.tmp`);
      writeFileSync(hidden, JSON.stringify({ streams: source.config.streams }, null, 2));
      renameSync(hidden, join(dir, `${name}.json`));
    },
    setSharedConfig(config) {
      writeFileSync(configFile, JSON.stringify(config, null, 2));
    },
    env,
    startWorker(workerOptions = {}) {
      const worker = startWorkerProcess({ env: env(), ...workerOptions });
      workers.push(worker);
      return worker;
    },
    async reset() {
      await stopWorkers();
      await deleteKeys(redis.client, keyPattern);
      rmSync(stateDir, { recursive: true, force: true });
      mkdirSync(stateDir);
      sim.reset();
    },
    async close() {
      if (closed) return;
      closed = true;
      done();
      await stopWorkers();
      await deleteKeys(redis.client, keyPattern).catch(() => undefined);
      await redis.cleanup();
      await sim.close();
      await Promise.all([...sources.values()].map((source) => source.db.drop()));
      rmSync(root, { recursive: true, force: true });
    },
  };
  const done = undoOnInterrupt(() => stack.close());
  return stack;
}

/** One source's events at the simulator (lot code starting with `codePrefix`): first receipt per natural key. */
export function receipts(
  sim: Simulator,
  codePrefix: string,
  kind: 'entrance' | 'departure',
): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of sim.state.received(kind)) {
    if (entry.key.startsWith(codePrefix) && !out.has(entry.key)) out.set(entry.key, entry.receivedAt);
  }
  return out;
}

/** Every entrance and departure the simulator holds. */
export function receivedEvents(sim: Simulator): number {
  return sim.state.store.count('entrance') + sim.state.store.count('departure');
}

/** Receipt times of every entrance and departure the simulator holds whose lot code starts with `codePrefix`, sorted. */
export function receiptTimes(sim: Simulator, codePrefix = ''): number[] {
  const times: number[] = [];
  for (const kind of ['entrance', 'departure'] as const)
    for (const entry of sim.state.received(kind))
      if (entry.key.startsWith(codePrefix)) times.push(entry.receivedAt);
  return times.sort((a, b) => a - b);
}
