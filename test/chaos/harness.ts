/**
 * The failure tests' stage: a demo vendor database (on the shared MariaDB or a private one), the ISP
 * simulator over real HTTP, a config file for `isp-park-sync start` children (fast polling), and the
 * bookkeeping that says, per event, whether ISP got it exactly once: the simulator's records are
 * compared with the independent expectation of test/helpers/expected.ts by natural key, as a
 * multiset (two no-plate cars may share a key legitimately).
 *
 * The workers under test always run as child processes (test/helpers/processes.ts); this module
 * never runs pipeline code in the test process beyond read-only looks at the push queues.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { deepMerge, STREAM_NAMES } from '../../src/config/index.js';
import { createQueues, pendingDepth } from '../../src/pipeline/queues.js';
import { createRedisClient } from '../../src/pipeline/redis-options.js';
import {
  createDemoSchema,
  type DemoStyleName,
  demoConfig,
  presetFile,
  type SeedOptions,
  seedDemo,
  startTraffic,
  type TrafficHandle,
  type TrafficOptions,
} from '../../src/sim/demo-vendor/index.js';
import type { FaultsPatch } from '../../src/sim/isp/faults.js';
import { type Simulator, startSimulator } from '../../src/sim/isp/index.js';
import { stateKey } from '../../src/state/keys.js';
import { type ExpectedEvent, expectedEvents } from '../helpers/expected.js';
import { CLIENT_ID, CLIENT_SECRET, FAST, LATE_HOLD_MS } from '../helpers/pipeline.js';
import { type ManagedProcess, spawnWorker, type WorkerOptions } from '../helpers/processes.js';
import { deleteKeys, TEST_MYSQL_URL, TEST_REDIS_URL, uniqueName } from '../helpers/services.js';

/**
 * The two ways a page reaches ISP (src/pipeline/events/direct-delivery.ts), as config layers: photo
 * streams go through the push queue; streams without photos are delivered by the poll itself.
 */
export const DELIVERY_PATHS: Array<[name: string, config: Record<string, unknown>, direct: boolean]> = [
  ['through the push queue (photo streams)', {}, false],
  [
    'delivered directly by the poll (no photos)',
    { streams: { entrances: { photo: null }, departures: { photo: null } } },
    true,
  ],
];

export interface ChaosOptions {
  style?: DemoStyleName;
  seed?: SeedOptions;
  faults?: FaultsPatch;
  /** Layered over FAST in the children's config file (no secrets: those go in the env). */
  config?: Record<string, unknown>;
  /** MariaDB server URL without database; default the shared test server. */
  mysqlServerUrl?: string;
  /**
   * Redis URL (one server or a `redis+cluster://` URL); default the shared test Redis. Keys live
   * under a prefix of the test's own either way.
   */
  redisUrl?: string;
}

type Wire = Record<string, unknown>;

/** How one event stream arrived at ISP compared with the vendor rows. */
export interface StreamDelivery {
  expected: number;
  received: number;
  /** Natural keys received fewer times than the vendor has them. */
  missing: string[];
  /** Extra copies of expected keys (received − expected, summed over keys). */
  duplicates: number;
  duplicateKeys: string[];
  /** Keys ISP got that no vendor row has. */
  unexpected: string[];
  /** Fields that differ from the expectation (first copy of each key). */
  mismatches: string[];
}

export interface Delivery {
  entrances: StreamDelivery;
  departures: StreamDelivery;
}

export interface Chaos {
  style: DemoStyleName;
  /** mysql:// URL of the demo database. */
  dbUrl: string;
  redisUrl: string;
  prefix: string;
  sim: Simulator;
  photoDir: string;
  /** The children's config file (layered over the style's preset). */
  configFile: string;
  /** Environment of a child `start` process. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  spawnWorker(name: string, options?: WorkerOptions & { env?: NodeJS.ProcessEnv }): Promise<ManagedProcess>;
  traffic(options?: TrafficOptions): Promise<TrafficHandle>;
  /** What ISP should have, from the vendor rows now. */
  expected(): Promise<{ entrances: ExpectedEvent[]; departures: ExpectedEvent[] }>;
  /** Compares what the simulator holds with `expected`. */
  delivery(expected: { entrances: ExpectedEvent[]; departures: ExpectedEvent[] }): Delivery;
  /** Waits until nothing is missing and no push job is left (so late duplicates show), and reports. */
  waitDelivered(
    expected: { entrances: ExpectedEvent[]; departures: ExpectedEvent[] },
    timeoutMs: number,
  ): Promise<Delivery>;
  /** Waits until no push job is waiting, active or delayed (three checks in a row). */
  waitPushIdle(timeoutMs: number): Promise<void>;
  /** Jobs in the push queues' failed sets, as "queue/jobId: reason". */
  failedPushJobs(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startChaos(options: ChaosOptions = {}): Promise<Chaos> {
  const photoOff = (stream: 'entrances' | 'departures') =>
    (options.config?.streams as Record<string, { photo?: unknown }> | undefined)?.[stream]?.photo === null;
  const style = options.style ?? 'visit-table';
  const server = (options.mysqlServerUrl ?? TEST_MYSQL_URL).replace(/\/$/, '');
  // Named like the shared helpers' databases, so global-setup drops it should a run be killed.
  const dbUrl = `${server}/${uniqueName('ipstest')}`;
  const redisUrl = options.redisUrl ?? TEST_REDIS_URL;
  const prefix = `{${uniqueName('chaos')}}`;
  const dir = mkdtempSync(join(tmpdir(), 'ips-chaos-'));
  const photoDir = join(dir, 'photos');
  const configFile = join(dir, 'chaos.json');
  const sim = await startSimulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    faults: options.faults ?? {},
  });
  const layer = deepMerge(deepMerge(FAST, { web: { host: '127.0.0.1', port: 0 } }), options.config ?? {});
  writeFileSync(configFile, JSON.stringify(layer, null, 2));

  const cleanups: Array<() => Promise<unknown>> = [
    () => sim.close(),
    async () => rmSync(dir, { recursive: true, force: true }),
  ];
  // Last set up, first torn down; safe to call twice.
  const close = async () => {
    for (let cleanup = cleanups.pop(); cleanup; cleanup = cleanups.pop())
      await cleanup().catch(() => undefined);
  };

  try {
    cleanups.push(() => dropDatabase(dbUrl));
    await createDemoSchema(dbUrl, style);
    await seedDemo(dbUrl, style, { photoDir, ...(options.seed ?? {}) });
  } catch (error) {
    await close();
    throw error;
  }
  cleanups.push(async () => {
    const client = createRedisClient(redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    // A private server may already be gone (killAll): then there is nothing to clean.
    client.on('error', () => undefined);
    try {
      await deleteKeys(client, `${prefix}*`);
    } finally {
      client.disconnect();
    }
  });

  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ISP_SYNC_CONFIG: `${presetFile(style)},${configFile}`,
    ISP_BASE_URL: sim.url,
    ISP_CLIENT_ID: CLIENT_ID,
    ISP_CLIENT_SECRET: CLIENT_SECRET,
    VENDOR_DB_URL: dbUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    PHOTO_ROOT: photoDir,
    LOG_LEVEL: 'info',
    ...extra,
  });

  /** The children's config as far as the test process needs it (queue names and prefix). */
  const testConfig = () =>
    demoConfig(style, dbUrl, { redis: { url: redisUrl, prefix }, isp: { baseUrl: sim.url } });

  /**
   * What a failed wait leaves to read: each push queue's job counts, the failed jobs' reasons, and
   * the stream checkpoints (where each poll has read up to).
   */
  const whereThingsStand = async (): Promise<string> => {
    const queues = createQueues(testConfig());
    const client = createRedisClient(redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      const counts = Object.fromEntries(
        await Promise.all(
          STREAM_NAMES.map(
            async (s) =>
              [
                s,
                await queues.push[s].getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed'),
              ] as const,
          ),
        ),
      );
      const checkpoints = await client.hgetall(stateKey(prefix, 'checkpoints'));
      return `push jobs: ${JSON.stringify(counts)}; checkpoints: ${JSON.stringify(checkpoints)}; failed: ${JSON.stringify(await chaos.failedPushJobs())}`;
    } finally {
      await queues.close();
      client.disconnect();
    }
  };

  const chaos: Chaos = {
    style,
    dbUrl,
    redisUrl,
    prefix,
    sim,
    photoDir,
    configFile,
    env,
    spawnWorker: (name, workerOptions = {}) =>
      spawnWorker(name, env(workerOptions.env), {
        args: workerOptions.args ?? ['--no-web'],
        ...(workerOptions.timeoutMs ? { timeoutMs: workerOptions.timeoutMs } : {}),
      }),
    traffic: (trafficOptions = {}) =>
      startTraffic(dbUrl, style, {
        ratePerSecond: 15,
        // Well below the children's commit lag (2 s) less the 1 s of whole-second stamps: late
        // commits must not be missed by design.
        holdMs: LATE_HOLD_MS,
        photoDir,
        seed: 7,
        ...trafficOptions,
      }),
    async expected() {
      const conn = await mysql.createConnection({ uri: dbUrl, dateStrings: true });
      try {
        const events = await expectedEvents(conn, style);
        // A stream whose photo the config turned off sends none, whatever the rows hold.
        const noPhotos = (list: ExpectedEvent[]) => list.map((e) => ({ ...e, photo: false }));
        return {
          entrances: photoOff('entrances') ? noPhotos(events.entrances) : events.entrances,
          departures: photoOff('departures') ? noPhotos(events.departures) : events.departures,
        };
      } finally {
        await conn.end();
      }
    },
    delivery(expected) {
      return {
        entrances: compare('entrance', expected.entrances, received(sim, 'entrance'), 'enter_time'),
        departures: compare('departure', expected.departures, received(sim, 'departure'), 'depart_time'),
      };
    },
    async waitDelivered(expected, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = chaos.delivery(expected);
        if (now.entrances.missing.length === 0 && now.departures.missing.length === 0) break;
        if (Date.now() > deadline) {
          throw new Error(
            `not everything delivered after ${timeoutMs} ms: missing ${now.entrances.missing.length} entrances ` +
              `(${now.entrances.missing.slice(0, 3).join(', ')}) and ${now.departures.missing.length} departures ` +
              `(${now.departures.missing.slice(0, 3).join(', ')}); simulator: ${JSON.stringify(sim.state.stats().requests)}; ` +
              `${await whereThingsStand().catch((e: Error) => `state unreadable: ${e.message}`)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      // Jobs a dead worker held are handed on only when their lock expires: wait until no push job
      // is left, and a moment more, so a batch sent twice has arrived before we count.
      await chaos.waitPushIdle(Math.max(5_000, deadline - Date.now()));
      await new Promise((r) => setTimeout(r, 1_000));
      return chaos.delivery(expected);
    },
    async waitPushIdle(timeoutMs) {
      const queues = createQueues(testConfig());
      try {
        const deadline = Date.now() + timeoutMs;
        let idleChecks = 0;
        let last: Record<string, number> = {};
        while (idleChecks < 3) {
          if (Date.now() > deadline)
            throw new Error(`push queues not idle after ${timeoutMs} ms: ${JSON.stringify(last)}`);
          await new Promise((r) => setTimeout(r, 500));
          const depths = await Promise.all(
            STREAM_NAMES.map(async (s) => [s, await pendingDepth(queues.push[s])] as const),
          ).catch(() => undefined);
          last = Object.fromEntries(depths ?? []);
          idleChecks = depths?.every(([, d]) => d === 0) ? idleChecks + 1 : 0;
        }
      } finally {
        await queues.close();
      }
    },
    async failedPushJobs() {
      const queues = createQueues(testConfig());
      try {
        const out: string[] = [];
        for (const stream of STREAM_NAMES) {
          for (const job of await queues.push[stream].getFailed(0, 100))
            out.push(`${queues.push[stream].name}/${job.id}: ${job.failedReason}`);
        }
        return out;
      } finally {
        await queues.close();
      }
    },
    close,
  };
  return chaos;
}

function received(sim: Simulator, kind: 'entrance' | 'departure'): Wire[] {
  return sim.state.received(kind, 0, 10_000_000).map((e) => e.record as Wire);
}

export function compare(
  kind: 'entrance' | 'departure',
  expected: ExpectedEvent[],
  got: Wire[],
  timeField: string,
): StreamDelivery {
  const byKey = new Map<string, Wire[]>();
  for (const w of got) {
    const key = `${w.park_code}|${w.plate_number}|${w[timeField]}`;
    byKey.set(key, [...(byKey.get(key) ?? []), w]);
  }
  const want = new Map<string, ExpectedEvent[]>();
  for (const e of expected) want.set(e.key, [...(want.get(e.key) ?? []), e]);
  const result: StreamDelivery = {
    expected: expected.length,
    received: got.length,
    missing: [],
    duplicates: 0,
    duplicateKeys: [],
    unexpected: [],
    mismatches: [],
  };
  const photoField = kind === 'entrance' ? 'enter_pic' : 'depart_pic';
  for (const [key, events] of want) {
    const wires = byKey.get(key) ?? [];
    if (wires.length < events.length) result.missing.push(key);
    if (wires.length > events.length) {
      result.duplicates += wires.length - events.length;
      result.duplicateKeys.push(key);
    }
    // Two events may share a key (two cars without plates leaving one lot in one second): each is
    // matched to a received record of its own, whatever order they arrived in.
    const unmatched = [...wires];
    for (const event of events) {
      if (unmatched.length === 0) break;
      const differences = (wire: Wire) => {
        const out: string[] = [];
        for (const [field, value] of Object.entries(event.fields))
          if (wire[field] !== value)
            out.push(`${key} ${field}: ${JSON.stringify(wire[field])} ≠ ${JSON.stringify(value)}`);
        if (event.photo !== String(wire[photoField]).startsWith('data:image/'))
          out.push(`${key} ${photoField}`);
        return out;
      };
      const exact = unmatched.findIndex((wire) => differences(wire).length === 0);
      const index = Math.max(exact, 0);
      result.mismatches.push(...differences(unmatched[index]!));
      unmatched.splice(index, 1);
    }
  }
  for (const [key, wires] of byKey) if (!want.has(key)) result.unexpected.push(`${key} ×${wires.length}`);
  return result;
}

async function dropDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  u.pathname = '/';
  const conn = await mysql.createConnection({ uri: u.toString(), connectTimeout: 2_000 });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await conn.end();
  }
}

/** Everything the simulator accepted, by request: one entry per batch (records share a receipt time). */
export function batchesReceived(
  sim: Simulator,
  kind: 'entrance' | 'departure',
): Array<{ receivedAt: number; size: number }> {
  const out: Array<{ receivedAt: number; size: number }> = [];
  for (const entry of sim.state.received(kind, 0, 10_000_000)) {
    const last = out.at(-1);
    if (last && last.receivedAt === entry.receivedAt) last.size++;
    else out.push({ receivedAt: entry.receivedAt, size: 1 });
  }
  return out;
}

/** The dashboard URL a child logged at start (children started without `--no-web`). */
export async function dashboardUrl(child: ManagedProcess): Promise<string> {
  const line = await child.waitForLine((l) => l.includes('"dashboard listening"'), 'dashboard line');
  return String((JSON.parse(line) as { url: string }).url);
}

/** `isp_sync_events_delivered_total` of one stream (every source's), read from a child's /metrics. */
export async function deliveredMetric(url: string, stream: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('isp_sync_events_delivered_total{') && l.includes(`stream="${stream}"`))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/** /healthz of a child: status code and body. */
export async function healthz(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/healthz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Requests to ISP endpoints the simulator has begun and not yet answered (inside its injected
 * latency), for a test that must strike while batches are on the simulator's side.
 */
export function requestsInProgress(sim: Simulator): number {
  const c = sim.state.counters;
  const answered = c.accepted + c.rejected + c.unauthorized + c.http500 + c.http429 + c.dropped + c.down;
  return c.total - answered - sim.state.tokenRequests.length;
}
