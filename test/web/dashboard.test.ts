/**
 * One dashboard over a fleet of two sources, as `start` serves it: two real Runtimes with their
 * workers (the Fleet of jobs/fleet.ts), each with its own vendor database read by its own read-only
 * user, its own ISP client and secret at the one simulator, its own Redis prefix (`{t_…@north}`). Both sources' queues are on the board
 * under names of their own (the write policy acting on the queue named, not on its namesake), each
 * has its section on the status page, `/readyz` judges both; secrets of both are scrubbed; a source
 * removed at run time leaves the board's list and shows as not running, and comes back when added.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../../jobs/fleet.js';
import { ROLES } from '../../jobs/workers.js';
import { type Config, deepMerge, type ResolvedSources, sourcePrefix } from '../../src/config/index.js';
import { silentLogger } from '../../src/log.js';
import type { FleetStatus, StatusSnapshot } from '../../src/pipeline/status-types.js';
import { type Simulator, startSimulator } from '../../src/sim/isp/index.js';
import { startDashboard } from '../../src/web/dashboard.js';
import type { FleetReadiness } from '../../src/web/fleet-readiness.js';
import type { WebServer } from '../../src/web/server.js';
import { closeDemoDatabases, createDemoDatabases, type DemoDatabase } from '../helpers/demo-databases.js';
import { FAST, waitFor } from '../helpers/pipeline.js';
import {
  createTestRedis,
  deleteKeys,
  TEST_MYSQL_URL,
  type TestRedis,
  uniqueName,
} from '../helpers/services.js';

const USER = 'operator';
const PASSWORD = `web-pw-${randomBytes(6).toString('hex')}`;
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const NAMES = ['north', 'south'] as const;
type Name = (typeof NAMES)[number];

interface Source {
  name: Name;
  database: DemoDatabase;
  config: Config;
  ispSecret: string;
  dbPassword: string;
}

interface Reply {
  status: number;
  body: string;
}

/** node:http rather than fetch: a write sets Origin itself, as the dashboard's own page does. */
function call(
  base: string,
  path: string,
  options: { method?: string; origin?: boolean } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      new URL(path, base),
      {
        method: options.method ?? 'GET',
        headers: { authorization: AUTH, ...(options.origin ? { origin: base } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The part of the status page that is one source's section. */
function sectionOf(html: string, name: string): string {
  const start = html.indexOf(`data-testid="source" data-source="${name}"`);
  if (start < 0) return '';
  const next = html.indexOf('data-testid="source" data-source="', start + 1);
  return html.slice(start, next < 0 ? undefined : next);
}

function testValue(html: string, id: string): string[] {
  return [...html.matchAll(new RegExp(`data-testid="${id}" data-value="([^"]*)"`, 'g'))].map((m) => m[1]!);
}

describe('one dashboard over two sources (real Runtimes, workers, MariaDB, Redis, ISP simulator)', () => {
  const sources: Source[] = [];
  const dbUsers: string[] = [];
  let databases: DemoDatabase[] = [];
  let sim: Simulator;
  let redis: TestRedis;
  let fleet: Fleet;
  let web: WebServer;
  let get: (path: string) => Promise<Reply>;

  /** A SELECT-only user with a password of its own on the database: the source's vendor URL. */
  async function readOnlyUrl(database: DemoDatabase, password: string): Promise<string> {
    const user = uniqueName('ipsweb');
    const root = await mysql.createConnection({ uri: TEST_MYSQL_URL });
    try {
      await root.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password]);
      dbUsers.push(user);
      await root.query(`GRANT SELECT ON \`${database.db.name}\`.* TO ?@?`, [user, '%']);
    } finally {
      await root.end();
    }
    const url = new URL(database.db.url);
    url.username = user;
    url.password = password;
    return url.toString();
  }

  const resolved = (names: Name[]): ResolvedSources => ({
    multi: true,
    configs: sources.filter((s) => names.includes(s.name)).map((s) => s.config),
    problems: [],
  });
  const rtOf = (name: string) => fleet.sources().find((s) => s.name === name)!.rt;

  beforeAll(async () => {
    // South has twice north's visits; lot codes ATXL/… and ATXL2/… (a park code is one source's).
    databases = await createDemoDatabases([
      { seed: { lots: 2, visits: 20, photos: false, days: 1 } },
      { seed: { lots: 2, visits: 40, photos: false, days: 1 } },
    ]);
    const secrets = NAMES.map((name) => ({
      ispSecret: `${name}-isp-secret-${randomBytes(6).toString('hex')}`,
      dbPassword: `${name}-db-pw-${randomBytes(6).toString('hex')}`,
    }));
    // One ISP, each source with credentials of its own.
    sim = await startSimulator({
      clients: NAMES.map((name, i) => ({ clientId: `${name}-client`, clientSecret: secrets[i]!.ispSecret })),
    });
    redis = await createTestRedis();
    for (const [i, name] of NAMES.entries()) {
      const database = databases[i]!;
      const { ispSecret, dbPassword } = secrets[i]!;
      const config = database.config(
        deepMerge(FAST, {
          source: { name },
          vendor: { url: await readOnlyUrl(database, dbPassword) },
          isp: { baseUrl: sim.url, auth: { clientId: `${name}-client`, clientSecret: ispSecret } },
          redis: { url: redis.url, prefix: sourcePrefix(redis.prefix, name) },
          web: { port: 0, user: USER, password: PASSWORD },
          // The alerts planted below stay: nothing evaluates them away.
          alerts: { enabled: false },
          log: { level: 'warn' },
        }),
      );
      sources.push({ name, database, config, ispSecret, dbPassword });
    }
    fleet = await Fleet.start(resolved([...NAMES]), { roles: new Set(ROLES), logger: silentLogger });
    web = await startDashboard(fleet, { logger: silentLogger });
    get = (path) => call(web.url, path);
    // Each source's secrets in a text of its own, bare (no `secret=` for a pattern to catch): only
    // the scrub by value of that source's config keeps them off the page.
    for (const s of sources) {
      const rt = rtOf(s.name);
      await rt.activity.recordError(
        'spotNums',
        `vendor answered ${s.dbPassword} while ISP said ${s.ispSecret}`,
        Date.now(),
        'push',
      );
      const lot = (await s.database.lotCodes())[0]!;
      await rt.health.commit(
        [
          {
            id: `quiet-lot|${lot}|`,
            alert: 'quiet-lot',
            lot,
            stream: '',
            reason: `lot ${lot} has been quiet`,
            since: Math.floor(Date.now() / 1000) - 60,
          },
        ],
        [],
        [],
      );
    }
    // Everything the two vendors recorded is delivered: the numbers stand still.
    for (const s of sources) {
      const expected = await s.database.expected();
      const keys = (kind: 'entrance' | 'departure', clientId: string) =>
        sim.state.store.list(kind).filter((r) => r.clientId === clientId).length;
      await waitFor(
        `${s.name} delivered`,
        () =>
          keys('entrance', `${s.name}-client`) === expected.entrances.length &&
          keys('departure', `${s.name}-client`) === expected.departures.length,
        60_000,
      );
    }
  }, 180_000);

  afterAll(async () => {
    await web?.close();
    await fleet?.close();
    await sim?.close();
    if (redis) {
      // Every source's keys: `{t_…@north}…`, `{t_…@south}…`.
      await deleteKeys(redis.client, `${redis.prefix.slice(0, -1)}*`);
      await redis.cleanup();
    }
    await closeDemoDatabases(databases);
    const root = await mysql.createConnection({ uri: TEST_MYSQL_URL });
    for (const user of dbUsers) await root.query('DROP USER IF EXISTS ?@?', [user, '%']);
    await root.end();
  });

  const forbidden = () => sources.flatMap((s) => [s.ispSecret, s.dbPassword, PASSWORD]);
  const leaks = (text: string) => forbidden().filter((secret) => text.includes(secret));

  it('/readyz is ready once both sources are, and shows each one’s checks', async () => {
    const ready = (await waitFor(
      'both sources ready',
      async () => {
        const reply = await get('/readyz');
        return reply.status === 200 ? (JSON.parse(reply.body) as FleetReadiness) : false;
      },
      60_000,
    )) as FleetReadiness;
    expect(Object.keys(ready.sources)).toEqual(['north', 'south']);
    for (const name of ['north', 'south']) {
      expect(ready.checks[name]).toEqual({ ok: true });
      expect(ready.sources[name]!.ok).toBe(true);
      expect(Object.keys(ready.sources[name]!.checks)).toEqual(
        expect.arrayContaining(['redis', 'mysql', 'state', 'schedulers', 'polls', 'workers']),
      );
    }
    expect(ready.idle).toEqual([]);
  });

  it('lists both sources’ queues on the board, each under its source’s name', async () => {
    const reply = await get('/admin/queues/api/queues');
    expect(reply.status).toBe(200);
    const listed = (
      JSON.parse(reply.body) as {
        queues: Array<{ name: string; displayName?: string; delimiter: string; readOnlyMode: boolean }>;
      }
    ).queues;
    const expected = sources.flatMap((s) =>
      rtOf(s.name)
        .queues.all()
        .map((q) => `${s.name}.${q.name}`),
    );
    expect(listed.map((q) => q.name).sort()).toEqual(expected.sort());
    expect(expected).toContain('north.push-entrances');
    expect(expected).toContain('south.push-entrances');
    const south = listed.find((q) => q.name === 'south.push-entrances')!;
    expect(south).toMatchObject({
      displayName: 'south · push-entrances',
      delimiter: '.',
      readOnlyMode: false,
    });
    expect(listed.find((q) => q.name === 'north.poll-entrances')!.readOnlyMode).toBe(true);
    expect(leaks(reply.body)).toEqual([]);
  });

  it('acts on the queue named, not on its namesake of the other source; the policy holds per queue', async () => {
    const write = (method: string, path: string) =>
      call(web.url, `/admin/queues/api/queues/${path}`, { method, origin: true });
    const southPush = rtOf('south').queues.push.entrances;
    const northPush = rtOf('north').queues.push.entrances;
    expect((await write('PUT', 'south.push-entrances/pause')).status).toBe(200);
    try {
      expect(await southPush.isPaused()).toBe(true);
      expect(await northPush.isPaused()).toBe(false);
    } finally {
      expect((await write('PUT', 'south.push-entrances/resume')).status).toBe(200);
    }
    expect(await southPush.isPaused()).toBe(false);
    const refused = await write('PUT', 'north.push-entrances/clean/failed');
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).message).toContain('replay --discard');
    expect((await write('PUT', 'south.push-entrances/empty')).status).toBe(403);
  });

  it('shows one section per source on the status page, each with its own numbers, no secret', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    const api = JSON.parse((await get('/api/status')).body) as FleetStatus & Partial<StatusSnapshot>;
    expect(api.sources.map((s) => s.name)).toEqual(['north', 'south']);
    expect(api.idle).toEqual([]);
    // Several sources: no single source's facts at the top.
    expect(api.streams).toBeUndefined();
    const totals: string[] = [];
    for (const source of api.sources) {
      const section = sectionOf(page.body, source.name);
      expect(section, source.name).toContain(`<h2 class="source-name">${source.name}</h2>`);
      const status = source.status!;
      for (const s of status.streams) {
        expect(testValue(section, `delivered-total-${s.stream}`), `${source.name} ${s.stream}`).toEqual([
          String(s.delivered.total),
        ]);
        expect(testValue(section, `failed-${s.stream}`)).toEqual([String(s.failed)]);
      }
      totals.push(testValue(section, 'delivered-total-entrances')[0]!);
      // Its own lots, its own alert, its own error text with the secrets scrubbed.
      const lot = source.name === 'north' ? 'ATXL/1' : 'ATXL2/1';
      expect(section).toContain(`data-park-code="${lot}"`);
      expect(section).not.toContain(`data-park-code="${source.name === 'north' ? 'ATXL2/1' : 'ATXL/1'}"`);
      expect(section).toContain(`data-lot="${lot}"`);
      expect(section).toContain('vendor answered [redacted] while ISP said [redacted]');
    }
    // The two sections are not one source's numbers twice (south has twice north's visits).
    expect(totals[0]).not.toEqual(totals[1]);
    expect(page.body).toContain('data-testid="source-row" data-source="north"');
    expect(page.body).toContain('data-testid="source-row" data-source="south"');
    // One source's status alone, in the stable shape.
    const south = JSON.parse((await get('/api/status?source=south')).body) as StatusSnapshot;
    expect(south.streams.map((s) => s.stream)).toEqual(['parks', 'spotNums', 'entrances', 'departures']);
    expect(south.lots.map((l) => l.parkCode)).toEqual(['ATXL2/1', 'ATXL2/2']);
    for (const path of [
      '/',
      '/api/status',
      '/api/status?source=north',
      '/api/status?source=south',
      '/readyz',
    ])
      expect(leaks((await get(path)).body), path).toEqual([]);
  });

  it('/metrics shows the active alerts of both sources', async () => {
    const reply = await get('/metrics');
    expect(reply.status).toBe(200);
    expect(reply.body).toMatch(/isp_sync_alert_active\{source="north",[^}]*lot="ATXL\/1"[^}]*\} 1\n/);
    expect(reply.body).toMatch(/isp_sync_alert_active\{source="south",[^}]*lot="ATXL2\/1"[^}]*\} 1\n/);
    expect(reply.body).toMatch(
      /isp_sync_queue_depth\{source="north",queue="push-entrances",state="wait"\} \d+\n/,
    );
    expect(reply.body).toMatch(
      /isp_sync_queue_depth\{source="south",queue="push-entrances",state="wait"\} \d+\n/,
    );
  });

  it('drops a removed source from the board and lists it as not running; lists it again when added', async () => {
    const queueNames = async () =>
      (JSON.parse((await get('/admin/queues/api/queues')).body) as { queues: Array<{ name: string }> }).queues
        .map((q) => q.name)
        .sort();
    const change = await fleet.apply(resolved(['north']));
    expect(change.removed).toEqual(['south']);
    const north = rtOf('north')
      .queues.all()
      .map((q) => `north.${q.name}`)
      .sort();
    expect(await queueNames()).toEqual(north);
    const gone = await call(web.url, '/admin/queues/api/queues/south.push-entrances/pause', {
      method: 'PUT',
      origin: true,
    });
    expect(gone.status).toBe(404);

    const page = (await get('/')).body;
    expect(sectionOf(page, 'north')).toContain('<h2 class="source-name">north</h2>');
    expect(sectionOf(page, 'south')).toBe('');
    expect(page).toMatch(/data-testid="idle-source" data-source="south" data-state="removed"/);
    expect(page).toContain('removed from the config; its state and failed jobs are kept');
    const ready = JSON.parse((await get('/readyz')).body) as FleetReadiness;
    expect(Object.keys(ready.sources)).toEqual(['north']);
    expect(ready.idle.map((s) => [s.name, s.state])).toEqual([['south', 'removed']]);
    // Its queue depths and alerts leave the gauges the dashboard refreshes; north's stay.
    const metrics = (await get('/metrics')).body;
    expect(metrics).toMatch(/isp_sync_queue_depth\{source="north",/);
    expect(metrics).not.toMatch(/isp_sync_queue_depth\{source="south",/);
    expect(metrics).toMatch(/isp_sync_alert_active\{source="north",/);
    expect(metrics).not.toMatch(/isp_sync_alert_active\{source="south",/);
    expect(leaks(page)).toEqual([]);

    const back = await fleet.apply(resolved(['north', 'south']));
    expect(back.added).toEqual(['south']);
    expect(await queueNames()).toEqual(
      [
        ...north,
        ...rtOf('south')
          .queues.all()
          .map((q) => `south.${q.name}`),
      ].sort(),
    );
    const api = JSON.parse((await get('/api/status')).body) as FleetStatus;
    expect(api.sources.map((s) => s.name)).toEqual(['north', 'south']);
    expect(api.idle).toEqual([]);
  }, 60_000);
});
