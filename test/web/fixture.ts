/**
 * Real dependencies for the web server tests (web-server.test.ts, e2e/browser.test.ts): BullMQ
 * queues on the local Redis under the test's own prefix, holding jobs that really completed,
 * failed (with a Base64 photo and secrets in their data, error, result and logs), wait and are
 * delayed; deliveries, errors and lot activity written through ActivityStore; a status() that
 * reads all of it back from Redis; ready() that really pings Redis and MariaDB.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { type Job, Worker } from 'bullmq';
import { DateTime } from 'luxon';
import mysql from 'mysql2/promise';
import pino from 'pino';
import { type Config, loadConfig, STREAM_NAMES, type StreamName } from '../../src/config/index.js';
import type { Logger } from '../../src/log.js';
import { createQueues, type Queues, workerConnection } from '../../src/pipeline/queues.js';
import { recentDays } from '../../src/pipeline/report/recent-days.js';
import { activeHealthAlerts, idGapsView } from '../../src/pipeline/status.js';
import type { StatusSnapshot, StreamStatus } from '../../src/pipeline/status-types.js';
import { redactUrl } from '../../src/redact.js';
import { ActivityStore } from '../../src/state/activity.js';
import { DeliveryDayStore } from '../../src/state/delivery-days.js';
import { IdGaps } from '../../src/state/id-gaps.js';
import { stateKey } from '../../src/state/keys.js';
import { LotHealthStore } from '../../src/state/lot-health.js';
import { StreamProgress } from '../../src/state/stream-progress.js';
import type { WebDeps } from '../../src/web/server.js';
import { createTestRedis, TEST_MYSQL_URL, TEST_REDIS_URL, type TestRedis } from '../helpers/services.js';

export const PHOTO = `data:image/jpg;base64,${randomBytes(3_000).toString('base64')}`;
/** Pieces of the photo that must never appear in a response (its head may, shortened). */
export const PHOTO_PIECES = [PHOTO.slice(100, 160), PHOTO.slice(2_000, 2_060), PHOTO.slice(-60)];

export const SECRETS = {
  ispClientSecret: `isp-secret-${randomBytes(6).toString('hex')}`,
  ispPassword: `isp-pass-${randomBytes(6).toString('hex')}`,
  vendorDbPassword: `vendor-pw-${randomBytes(6).toString('hex')}`,
  webUser: 'operator',
  webPassword: `web-pw-${randomBytes(6).toString('hex')}`,
  webToken: `web-token-${randomBytes(12).toString('hex')}`,
};

/** Every string that must not appear in any response body or log line. */
export const FORBIDDEN = [
  ...PHOTO_PIECES,
  SECRETS.ispClientSecret,
  SECRETS.ispPassword,
  SECRETS.vendorDbPassword,
  SECRETS.webPassword,
  SECRETS.webToken,
];

export const TIME_ZONE = 'Asia/Shanghai';
export const CHART_HOURS = 6;

export interface FixtureOptions {
  web?: Partial<Config['web']>;
}

export interface WebFixture {
  config: Config;
  redis: TestRedis;
  queues: Queues;
  activity: ActivityStore;
  /** A push-entrances job that failed with a photo and secrets in it. */
  failedJobId: string;
  /** A second failed job, for the browser test's Retry click. */
  failedJobId2: string;
  completedJobId: string;
  waitingJobId: string;
  /** What health() and ready() answer; tests flip these. */
  flags: { healthy: boolean; ispReachable: boolean; tokenValid: boolean };
  /** Log lines the server wrote (JSON), to check that no secret is ever logged. */
  logLines: string[];
  logger: Logger;
  deps(): WebDeps;
  status(): Promise<StatusSnapshot>;
  close(): Promise<void>;
}

export async function createWebFixture(options: FixtureOptions = {}): Promise<WebFixture> {
  const redis = await createTestRedis();
  const config = loadConfig({
    env: {},
    overrides: {
      isp: {
        baseUrl: 'https://isp.example.cn/api',
        auth: {
          clientId: 'park-client',
          clientSecret: SECRETS.ispClientSecret,
          password: SECRETS.ispPassword,
        },
      },
      vendor: {
        url: `mysql://reader:${SECRETS.vendorDbPassword}@127.0.0.1:3306/parking_demo`,
        timeZone: TIME_ZONE,
      },
      redis: { url: TEST_REDIS_URL, prefix: redis.prefix },
      web: {
        host: '127.0.0.1',
        port: 0,
        user: SECRETS.webUser,
        password: SECRETS.webPassword,
        token: SECRETS.webToken,
        ...options.web,
      },
    },
  });
  const queues = createQueues(config);
  const activity = new ActivityStore(redis.client, redis.prefix);
  const progress = new StreamProgress(redis.client, redis.prefix);
  const flags = { healthy: true, ispReachable: true, tokenValid: true };
  const logLines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );

  // Jobs that really ran: a worker completes or fails them.
  const entrances = queues.push.entrances;
  const record = (plate: string) => ({
    park_code: 'ATXL/1',
    plate_number: plate,
    enter_time: 1_772_323_200,
    car_type: '2',
    car_logo: '大众',
    enter_pic: PHOTO,
  });
  const failedData = {
    records: [record('鲁A12345')],
    clientSecret: SECRETS.ispClientSecret,
    vendorUrl: config.vendor.url,
    note: `retry with secret ${SECRETS.ispClientSecret}`,
  };
  const failed1 = await entrances.add('entrances-batch', failedData, {
    jobId: 'entrances-1772323200-1',
    attempts: 1,
  });
  const failed2 = await entrances.add(
    'entrances-batch',
    { records: [record('鲁A54321')] },
    { jobId: 'entrances-1772323200-2', attempts: 1 },
  );
  const completed = await entrances.add(
    'entrances-batch',
    { records: [record('鲁B11111')] },
    { jobId: 'entrances-1772323260-1', attempts: 1 },
  );
  const worker = new Worker(
    entrances.name,
    async (job: Job) => {
      await job.log(`sending with password ${SECRETS.ispPassword} and photo ${PHOTO}`);
      if (job.id === completed.id) return { accepted: 1, echo: PHOTO, token: SECRETS.webToken };
      throw new Error(
        `ISP rejected record ATXL/1|鲁A12345 (code 1): enter_pic ${PHOTO} client_secret=${SECRETS.ispClientSecret}`,
      );
    },
    { connection: workerConnection(config), prefix: config.redis.prefix },
  );
  try {
    await until(async () => {
      const c = await entrances.getJobCounts('failed', 'completed');
      return c.failed === 2 && c.completed === 1;
    }, 'jobs to be processed');
  } finally {
    await worker.close();
  }
  // Work still to do: waiting and delayed (no worker runs any more).
  const waiting = await queues.push.departures.add(
    'departures-batch',
    { records: [] },
    { jobId: 'departures-w-1' },
  );
  await queues.push.departures.add(
    'departures-batch',
    { records: [] },
    { jobId: 'departures-d-1', delay: 3_600_000 },
  );

  // Deliveries over the last day, errors, lots, checkpoints, quarantine: what the pipeline writes.
  const now = Date.now();
  const min = 60_000;
  await activity.recordDelivered(
    'entrances',
    7,
    { field: 'lastEntrance', times: new Map([['ATXL/1', 1_772_323_200]]) },
    now - 10 * min,
  );
  await activity.recordDelivered(
    'entrances',
    3,
    { field: 'lastEntrance', times: new Map([['ATXL/2', 1_772_323_500]]) },
    now - 40 * min,
  );
  await activity.recordDelivered('entrances', 11, {}, now - 3 * 60 * min);
  await activity.recordDelivered(
    'departures',
    4,
    { field: 'lastDeparture', times: new Map([['ATXL/1', 1_772_326_800]]) },
    now - 20 * min,
  );
  await activity.recordDelivered(
    'spotNums',
    2,
    { spotNums: [{ park_code: 'ATXL/1', total_spots_num: 120, remain_spots_num: 37, used_spots_num: 83 }] },
    now - 5 * min,
  );
  await activity.recordDelivered('parks', 2, {}, now - 30 * 60 * min);
  await activity.recordError(
    'entrances',
    `ISP unavailable: connect ECONNREFUSED (client_secret=${SECRETS.ispClientSecret}, photo ${PHOTO})`,
    now - 15 * min,
  );
  const readUpTo = Math.floor(now / 1000) - 42;
  for (const s of ['entrances', 'departures'] as const) {
    await progress.setCaughtUp(s, readUpTo);
    await redis.client.set(
      stateKey(redis.prefix, 'fixture-checkpoint', s),
      s === 'entrances' ? '88123' : '77001',
    );
  }
  await redis.client.rpush(stateKey(redis.prefix, 'quarantine', 'departures'), 'row-1', 'row-2');
  // Lot health alerts as an evaluation leaves them (one with markup in its text, escaped on the page).
  const health = new LotHealthStore(redis.client, redis.prefix);
  const nowS = Math.floor(now / 1000);
  await health.commit(
    [
      {
        id: 'quiet-lot|ATXL/2|',
        alert: 'quiet-lot',
        lot: 'ATXL/2',
        stream: '',
        reason: 'lot ATXL/2 has had no entrance or departure for 2 h 5 min <b>check</b>',
        since: nowS - 600,
      },
      {
        id: 'delivery-latency||entrances',
        alert: 'delivery-latency',
        lot: '',
        stream: 'entrances',
        reason: 'entrances events take 12 min from their time to ISP (bound 10 min)',
        since: nowS - 60,
      },
    ],
    [],
    [],
  );

  // The last days: deliveries per day (by event time) written as the pushers write them, and what
  // two nightly reconciles found (yesterday complete, the day before one event short).
  const deliveryDays = new DeliveryDayStore(redis.client, redis.prefix, TIME_ZONE, 35);
  const days = deliveryDays.days;
  const today = days.dayOf(Math.floor(now / 1000));
  const dayCounts = [120, 0, 95, 180, 150, 40];
  for (const [i, n] of dayCounts.entries()) {
    const day = days.before(today, dayCounts.length - 1 - i);
    const time = days.bounds(day).start + 9 * 3600;
    await deliveryDays.record(
      'entrances',
      deliveryDays.tally().add(
        Array.from({ length: n }, () => ({ time, lot: 'ATXL/1' })),
        { nowMs: (time + 4) * 1000 },
      ),
    );
  }
  const nights = new Map([
    [days.before(today, 1), { recorded: 150, delivered: 150, missing: 0 }],
    [days.before(today, 2), { recorded: 181, delivered: 180, missing: 1 }],
  ]);

  let mysqlConn: mysql.Connection | undefined;
  const startedAt = Math.floor(Date.now() / 1000);

  async function status(): Promise<StatusSnapshot> {
    const nowMs = Date.now();
    const healthAlerts = await activeHealthAlerts(health);
    const generatedAt = Math.floor(nowMs / 1000);
    const streams: StreamStatus[] = [];
    for (const s of STREAM_NAMES) streams.push(await streamStatus(s, nowMs, generatedAt));
    const perStream = await Promise.all(
      STREAM_NAMES.map((s) => activity.perMinute(s, nowMs - CHART_HOURS * 3_600_000, nowMs)),
    );
    const deliveredPerMinute = perStream[0]!.map((point, i) => ({
      minute: point.minute,
      count: perStream.reduce((sum, series) => sum + (series[i]?.count ?? 0), 0),
    }));
    const lots = (await activity.lots()).map((lot) => ({
      parkCode: lot.parkCode,
      lastEntrance: lot.lastEntrance ?? null,
      lastDeparture: lot.lastDeparture ?? null,
      lastSpotNum: lot.lastSpotNum ?? null,
    }));
    const next = DateTime.fromMillis(nowMs, { zone: TIME_ZONE })
      .plus({ days: 1 })
      .startOf('day')
      .plus({ hours: 1 });
    return {
      generatedAt,
      version: '0.1.0-test',
      isp: {
        baseUrl: redactUrl(config.isp.baseUrl),
        reachable: flags.ispReachable,
        token: {
          valid: flags.tokenValid,
          expiresAt: flags.tokenValid ? generatedAt + 3_000 : null,
          expiresInSeconds: flags.tokenValid ? 3_000 : null,
          error: null,
        },
      },
      timeZone: TIME_ZONE,
      state: { marker: true, lost: null },
      alerts: [],
      healthAlerts,
      streams,
      lots,
      lotLifecycle: {
        registered: lots.length,
        pending: 0,
        deleted: 0,
        superseded: 0,
        deleteWaits: [],
        held: [],
        deleteGuard: null,
      },
      vendorClock: null,
      deliveredPerMinute,
      chartHours: CHART_HOURS,
      recentDays: await recentDays({ deliveryDays }, nowMs, nights),
      nextFullSync: Math.floor(next.toSeconds()),
    };
  }

  async function idGapsOf(s: StreamName, nowMs: number): Promise<StreamStatus['idGaps']> {
    const summary = await new IdGaps(redis.client, redis.prefix, s).summary();
    return summary.open === 0 ? null : idGapsView(summary, nowMs);
  }

  async function streamStatus(s: StreamName, nowMs: number, generatedAt: number): Promise<StreamStatus> {
    const counts = await queues.push[s].getJobCounts('wait', 'active', 'delayed', 'failed', 'completed');
    const caughtUp = await progress.caughtUp(s);
    const checkpointId = await redis.client.get(stateKey(redis.prefix, 'fixture-checkpoint', s));
    const lastError = await activity.lastError(s);
    return {
      stream: s,
      checkpoint:
        caughtUp !== undefined && checkpointId
          ? {
              time: DateTime.fromSeconds(caughtUp, { zone: TIME_ZONE }).toFormat('yyyy-MM-dd HH:mm:ss'),
              id: checkpointId,
            }
          : null,
      readUpTo: caughtUp ?? null,
      lagSeconds: caughtUp !== undefined ? generatedAt - caughtUp : null,
      delivered: {
        lastHour: await activity.deliveredSince(s, nowMs - 3_600_000, nowMs),
        lastDay: await activity.deliveredSince(s, nowMs - 86_400_000, nowMs),
        total: (await activity.totals())[s] ?? 0,
      },
      lastError: lastError
        ? { at: lastError.at, message: lastError.message, recoveredAt: lastError.recoveredAt ?? null }
        : null,
      push: {
        waiting: counts.wait ?? 0,
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
        completed: counts.completed ?? 0,
      },
      failed: counts.failed ?? 0,
      quarantined: await redis.client.llen(stateKey(redis.prefix, 'quarantine', s)),
      // As a probing stream shows them: here, any stream with gaps noted under the prefix.
      idGaps: await idGapsOf(s, nowMs),
    };
  }

  return {
    config,
    redis,
    queues,
    activity,
    failedJobId: failed1.id!,
    failedJobId2: failed2.id!,
    completedJobId: completed.id!,
    waitingJobId: waiting.id!,
    flags,
    logLines,
    logger,
    status,
    deps: () => ({
      config,
      sources: () => [{ name: config.source.name, config, queues: queues.all() }],
      // One source, as the dashboard of a process running one sees it.
      status: async () => ({
        generatedAt: Math.floor(Date.now() / 1000),
        version: '0.1.0-test',
        sources: [{ name: config.source.name, startedAt: startedAt, status: await status(), error: null }],
        idle: [],
      }),
      logger,
      async health() {
        return {
          ok: flags.healthy,
          details: { consumed: flags.healthy, clientSecret: SECRETS.ispClientSecret },
        };
      },
      async ready() {
        const checks: Record<string, { ok: boolean; message?: string }> = {};
        try {
          checks.redis = { ok: (await redis.client.ping()) === 'PONG' };
        } catch (error) {
          checks.redis = { ok: false, message: (error as Error).message };
        }
        try {
          mysqlConn ??= await mysql.createConnection({ uri: TEST_MYSQL_URL });
          await mysqlConn.query('SELECT 1');
          checks.mysql = { ok: true };
        } catch (error) {
          checks.mysql = { ok: false, message: (error as Error).message };
        }
        checks.isp = flags.ispReachable
          ? { ok: true }
          : {
              ok: false,
              message: `ISP unreachable at ${config.isp.baseUrl} (secret ${SECRETS.ispClientSecret})`,
            };
        return { ok: Object.values(checks).every((c) => c.ok), checks };
      },
    }),
    async close() {
      await queues.close();
      await mysqlConn?.end().catch(() => undefined);
      await redis.cleanup();
    },
  };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Basic credentials of the fixture as an Authorization header value. */
export function basicAuth(user = SECRETS.webUser, password = SECRETS.webPassword): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
