/**
 * The operator's commands on a config with several sources (real MariaDB, Redis, BullMQ, the ISP
 * simulator over HTTP, the CLI as a child): three source files in a sources folder, each a
 * visit-table vendor database of its own with its own lot codes, delivered by their own workers. The
 * reading commands show every source under its heading (JSON: one object per source), `--source`
 * keeps one; reconcile exits with the worst source's code; a command that changes state refuses
 * without `--source`, naming the sources. Once old is removed from the folder, `sources list`
 * shows its state as no configured source's, and `sources purge` deletes exactly its keys and
 * releases its park codes (not while it is configured or still served, not without --yes).
 */
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningWorkers, startWorkers } from '../../jobs/workers.js';
import { type Config, loadSources } from '../../src/config/index.js';
import { silentLogger } from '../../src/log.js';
import { pendingDepth } from '../../src/pipeline/queues.js';
import { createRuntime, type Runtime } from '../../src/pipeline/runtime.js';
import { sourceRegistryKey } from '../../src/pipeline/source-state.js';
import { evidencePath, forgetStateEvidence } from '../../src/pipeline/state-guard.js';
import { type Simulator, startSimulator } from '../../src/sim/isp/index.js';
import { ParkClaimStore } from '../../src/state/park-claims.js';
import { runCli } from '../helpers/cli.js';
import { closeDemoDatabases, createDemoDatabases, type DemoDatabase } from '../helpers/demo-databases.js';
import { CLIENT_ID, CLIENT_SECRET, FAST, TEST_STATE_DIR, waitFor } from '../helpers/pipeline.js';
import { createTestRedis, deleteKeys, type TestDatabase, type TestRedis } from '../helpers/services.js';

const ZONE = 'Asia/Shanghai';
/** A departure ISP refuses: a failed job in north and in old. */
const REFUSED_PLATE = '鲁F00077';
const fmt = (d: DateTime) => d.toFormat('yyyy-MM-dd HH:mm:ss');

interface Source {
  name: string;
  db: TestDatabase;
  config: Config;
  rt: Runtime;
  workers?: RunningWorkers;
}

let sim: Simulator;
let redis: TestRedis;
let base: string;
let dir: string;
let databases: DemoDatabase[] = [];
let north: TestDatabase;
let south: TestDatabase;
let env: NodeJS.ProcessEnv;
const sources = new Map<string, Source>();
const yesterday = () => DateTime.now().setZone(ZONE).minus({ days: 1 }).toFormat('yyyy-MM-dd');

/** The id of the row an event stream reads last (keyset order), where its checkpoint ends up. */
async function lastId(db: TestDatabase, time: 'in_time' | 'out_time'): Promise<string> {
  const [[row]] = (await db.admin.query(
    `SELECT id FROM car_inout WHERE ${time} IS NOT NULL ORDER BY ${time} DESC, id DESC LIMIT 1`,
  )) as unknown as [Array<{ id: number }>];
  return String(row!.id);
}

/** Every key under a prefix but BullMQ's stalled-check marks (they expire on their own). */
async function keysOf(prefix: string): Promise<string[]> {
  return (await redis.client.keys(`${prefix}*`)).filter((k) => !k.endsWith(':stalled-check')).sort();
}

/** The part of a grouped text output under one source's heading. */
/**
 * Runs `fn` with the environment of a sources folder of two files: north valid, west invalid
 * (`vendor.commitLagSeconds: -3`); the folder is removed after.
 */
async function withInvalidSource(fn: (folderEnv: NodeJS.ProcessEnv) => Promise<void>): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'ips-sources-bad-'));
  try {
    writeFileSync(join(folder, 'north.yaml'), 'extends: config/presets/visit-table.yaml\n');
    writeFileSync(
      join(folder, 'west.yaml'),
      'extends: config/presets/visit-table.yaml\nvendor:\n  commitLagSeconds: -3\n',
    );
    await fn({ ...env, ISP_SYNC_SOURCES_DIR: folder, VENDOR_DB_URL__WEST: north.url });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** The sources of a grouped JSON answer, each with whether it carries an error. */
function sourcesWithError(stdout: string): Array<[string, boolean]> {
  const shown = JSON.parse(stdout) as { sources: Array<{ source: string; error?: string }> };
  return shown.sources.map((s) => [s.source, s.error !== undefined]);
}

function section(text: string, name: string): string {
  const start = text.indexOf(`== source ${name} `);
  if (start < 0) return '';
  const next = text.indexOf('== source ', start + 1);
  return text.slice(start, next < 0 ? undefined : next);
}

beforeAll(async () => {
  redis = await createTestRedis();
  // The deployment's prefix; the sources' are under it ({t_…@north}), removed with it.
  base = redis.prefix;
  sim = await startSimulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    faults: {
      rejectRules: [
        { kind: 'departure', field: 'plate_number', equals: REFUSED_PLATE, message: 'refused on purpose' },
      ],
    },
  });
  const seed = { lots: 3, visits: 40, days: 1.5, photos: false };
  databases = await createDemoDatabases([
    { lotPrefix: 'NORTH', seed },
    { lotPrefix: 'SOUTH', seed },
    { lotPrefix: 'OLD', seed },
  ]);
  const [n, so, o] = databases as [DemoDatabase, DemoDatabase, DemoDatabase];
  north = n.db;
  south = so.db;
  const now = DateTime.now().setZone(ZONE);
  const row = async (db: TestDatabase, plate: string, fee: number, at: DateTime) => {
    const [[lot]] = (await db.admin.query('SELECT park_no FROM parkinfo LIMIT 1')) as unknown as [
      Array<{ park_no: string }>,
    ];
    await db.admin.query(
      'INSERT INTO car_inout (park_no, in_plate, in_time, out_time, car_kind, should_pay, real_pay, pay_kind, pay_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        lot!.park_no,
        plate,
        fmt(at),
        fmt(at.plus({ minutes: 30 })),
        '小型车',
        fee,
        Math.max(fee, 0),
        '微信',
        fmt(at.plus({ minutes: 29 })),
      ],
    );
  };
  await row(north, REFUSED_PLATE, 500, now.minus({ hours: 2 }));
  await row(o.db, REFUSED_PLATE, 500, now.minus({ hours: 2 }));
  // A negative fee: south's departure is quarantined.
  await row(south, '鲁Q00042', -5, now.minus({ hours: 2 }));

  dir = mkdtempSync(join(tmpdir(), 'ips-sources-'));
  for (const name of ['north', 'old', 'south'])
    writeFileSync(join(dir, `${name}.yaml`), 'extends: config/presets/visit-table.yaml\n');
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ISP_SYNC_CONFIG: 'config/presets/visit-table.yaml',
    ISP_SYNC_SOURCES_DIR: dir,
    ISP_BASE_URL: sim.url,
    ISP_CLIENT_ID: CLIENT_ID,
    ISP_CLIENT_SECRET: CLIENT_SECRET,
    VENDOR_DB_URL__NORTH: north.url,
    VENDOR_DB_URL__SOUTH: south.url,
    VENDOR_DB_URL__OLD: o.db.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: base,
    STATE_DIR: TEST_STATE_DIR,
    LOG_LEVEL: 'warn',
  };
  const { redis: _r, ...fast } = FAST;
  const resolved = loadSources({ env, overrides: fast });
  expect(resolved.problems).toEqual([]);
  for (const config of resolved.configs) {
    const name = config.source.name;
    const rt = createRuntime(config, { logger: silentLogger });
    const db = databases[['north', 'south', 'old'].indexOf(name)]!.db;
    const source: Source = { name, db, config, rt };
    sources.set(name, source);
    source.workers = await startWorkers(rt, new Set(['scheduler', 'poller', 'pusher'] as const));
  }
  for (const s of sources.values()) {
    const last = { entrances: await lastId(s.db, 'in_time'), departures: await lastId(s.db, 'out_time') };
    await waitFor(
      `source ${s.name}: every row read and handed on, the refused one failed`,
      async () => {
        const cp = await s.rt.checkpoints.all();
        const pending = await Promise.all(Object.values(s.rt.queues.push).map(pendingDepth));
        const failed = await s.rt.queues.push.departures.getFailedCount();
        return (
          cp.entrances?.id === last.entrances &&
          cp.departures?.id === last.departures &&
          pending.every((n) => n === 0) &&
          failed === (s.name === 'south' ? 0 : 1)
        );
      },
      120_000,
    );
  }
  // north and south stop; old runs on until the purge test stops it.
  for (const name of ['north', 'south']) {
    await sources.get(name)!.workers?.close();
    sources.get(name)!.workers = undefined;
  }
}, 240_000);

afterAll(async () => {
  for (const s of sources.values()) {
    await s.workers?.close().catch(() => undefined);
    for (const q of s.rt.queues.all()) await q.obliterate({ force: true }).catch(() => undefined);
    await s.rt.close();
    forgetStateEvidence(s.config);
  }
  if (redis) {
    await deleteKeys(redis.client, `${redis.prefix.slice(0, -1)}*`);
    await redis.cleanup();
  }
  await sim?.close();
  await closeDemoDatabases(databases);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('commands over several sources', () => {
  it('status, quarantine list and replay --list show every source under its heading; --source keeps one', async () => {
    const text = await runCli(['status', '--no-probe'], env);
    expect(text.code, text.stderr).toBe(0);
    for (const name of ['north', 'old', 'south']) {
      expect(text.stdout).toContain(
        `== source ${name} (Redis prefix ${sources.get(name)!.config.redis.prefix}) ==`,
      );
      expect(section(text.stdout, name)).toMatch(/\nentrances\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s/);
    }

    const json = await runCli(['status', '--no-probe', '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    const all = JSON.parse(json.stdout) as {
      sources: Array<{
        source: string;
        redisPrefix: string;
        status: { streams: Array<{ stream: string; delivered: { total: number }; failed: number }> };
      }>;
    };
    expect(all.sources.map((s) => s.source)).toEqual(['north', 'old', 'south']);
    for (const s of all.sources) {
      expect(s.redisPrefix).toBe(`${base.slice(0, -1)}@${s.source}}`);
      const entrances = s.status.streams.find((x) => x.stream === 'entrances')!;
      expect(entrances.delivered.total, s.source).toBeGreaterThan(0);
      const departures = s.status.streams.find((x) => x.stream === 'departures')!;
      expect(departures.failed, s.source).toBe(s.source === 'south' ? 0 : 1);
    }

    const one = await runCli(['--source', 'south', 'status', '--no-probe', '--json'], env);
    expect(one.code, one.stderr).toBe(0);
    expect((JSON.parse(one.stdout) as typeof all).sources.map((s) => s.source)).toEqual(['south']);
    const oneText = await runCli(['status', '--no-probe', '--source', 'north'], env);
    expect(oneText.code, oneText.stderr).toBe(0);
    expect(oneText.stdout).toContain('== source north ');
    expect(oneText.stdout).not.toContain('== source south ');

    const quarantine = await runCli(['quarantine', 'list'], env);
    expect(quarantine.code, quarantine.stderr).toBe(0);
    expect(section(quarantine.stdout, 'south')).toMatch(/departures 1\b[\s\S]*\ndepartures:\d+\s/);
    expect(section(quarantine.stdout, 'north')).toContain('departures 0');
    const qJson = JSON.parse((await runCli(['quarantine', 'list', '--json'], env)).stdout) as {
      sources: Array<{ source: string; total: number; entries: Array<{ source: string; stream: string }> }>;
    };
    const southQ = qJson.sources.find((s) => s.source === 'south')!;
    expect(southQ.total).toBe(1);
    expect(southQ.entries).toEqual([expect.objectContaining({ source: 'south', stream: 'departures' })]);
    expect(qJson.sources.find((s) => s.source === 'north')!.total).toBe(0);

    const replay = await runCli(['replay', '--list'], env);
    expect(replay.code, replay.stderr).toBe(0);
    expect(section(replay.stdout, 'north')).toMatch(
      /1 failed job match:\npush-departures .*plates .*鲁F00077/,
    );
    expect(section(replay.stdout, 'south')).toContain('no failed jobs match');
    const rJson = JSON.parse((await runCli(['replay', '--list', '--json'], env)).stdout) as {
      sources: Array<{ source: string; total: number; jobs: Array<{ source: string; plates: string[] }> }>;
    };
    expect(rJson.sources.map((s) => [s.source, s.total])).toEqual([
      ['north', 1],
      ['old', 1],
      ['south', 0],
    ]);
    expect(rJson.sources[0]!.jobs[0]).toMatchObject({ source: 'north', plates: [REFUSED_PLATE] });
  }, 120_000);

  it('reconcile and report cover every source; reconcile exits with the worst source', async () => {
    // A row south's poll never reads (its cursor is past it): missing in south's yesterday.
    const day = yesterday();
    const [[lot]] = (await south.admin.query('SELECT park_no FROM parkinfo LIMIT 1')) as unknown as [
      Array<{ park_no: string }>,
    ];
    await south.admin.query(
      "INSERT INTO car_inout (park_no, in_plate, in_time, car_kind) VALUES (?, '鲁M00001', ?, '小型车')",
      [lot!.park_no, `${day} 12:00:00`],
    );
    const all = await runCli(['reconcile', '--date', day, '--json'], env);
    expect(all.code, all.stderr).toBe(1);
    const json = JSON.parse(all.stdout) as {
      sources: Array<{
        source: string;
        exitCode: number;
        report: { missingByStream: { entrances: number } };
      }>;
    };
    expect(json.sources.map((s) => [s.source, s.exitCode])).toEqual([
      ['north', 0],
      ['old', 0],
      ['south', 1],
    ]);
    expect(json.sources[2]!.report.missingByStream.entrances).toBe(1);
    const text = await runCli(['reconcile', '--date', day], env);
    expect(text.code).toBe(1);
    expect(section(text.stdout, 'south')).toContain('NOT complete');
    expect(section(text.stdout, 'north')).toContain('complete: every recorded event');
    expect(text.stdout).toContain('events missing in south');

    const northOnly = await runCli(['--source', 'north', 'reconcile', '--date', day], env);
    expect(northOnly.code, northOnly.stdout + northOnly.stderr).toBe(0);
    expect(northOnly.stdout).not.toContain('source south');

    const csv = await runCli(['report', '--date', day, '--format', 'csv'], env);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\r\n');
    expect(lines[0]).toMatch(/^source,day,park_code,/);
    const bySource = new Set(lines.slice(1).map((l) => l.split(',')[0]));
    expect([...bySource].sort()).toEqual(['north', 'old', 'south']);
    const md = await runCli(['report', '--date', day], env);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toMatch(/^# Source north\n\n## Delivery report/);
    expect(md.stdout).toContain('# Source south');
  }, 120_000);

  it('a command that changes state refuses without --source, naming the sources', async () => {
    const replay = await runCli(['replay', '--yes'], env);
    expect(replay.code).toBe(78);
    expect(replay.stderr).toContain(
      'replay works on one source at a time, and this config has 3 sources (north, old, south): ' +
        'choose one with --source <name> or ISP_SYNC_SOURCE (e.g. isp-park-sync --source north replay ...)',
    );
    const backfill = await runCli(['backfill', 'entrances', '--from', '2026-01-01'], env);
    expect(backfill.code).toBe(78);
    expect(backfill.stderr).toContain('backfill works on one source at a time');
    const repair = await runCli(['reconcile', '--repair'], env);
    expect(repair.code).toBe(78);
    expect(repair.stderr).toContain('reconcile --repair works on one source at a time');
    // Nothing was replayed.
    expect(await sources.get('north')!.rt.queues.push.departures.getFailedCount()).toBe(1);

    // Chosen, it acts (south's quarantined row is still bad: kept).
    const retry = await runCli(['--source', 'south', 'quarantine', 'retry', '--all'], env);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toContain('still bad 1');
  }, 60_000);

  it('check and dry-run cover every source; --source keeps one; an invalid source file fails them', async () => {
    const check = await runCli(['check'], env);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    for (const name of ['north', 'old', 'south'])
      expect(section(check.stdout, name)).toMatch(
        /streams: every table and column resolves[\s\S]*check passed/,
      );
    expect(check.stdout).toContain('check passed for all 3 source(s)');
    const oneCheck = await runCli(['--source', 'south', 'check'], env);
    expect(oneCheck.code, oneCheck.stderr).toBe(0);
    expect(oneCheck.stdout).toContain('== source south ');
    expect(oneCheck.stdout).not.toContain('== source north ');

    const dry = await runCli(['dry-run', 'parks'], env);
    expect(dry.code, dry.stderr).toBe(0);
    const read = JSON.parse(dry.stdout) as {
      sources: Array<{ source: string; dryRun: { stream: string; payloads: Array<{ park_code: string }> } }>;
    };
    expect(read.sources.map((s) => s.source)).toEqual(['north', 'old', 'south']);
    // Each source reads its own vendor database: its own lot codes.
    const codes = (name: string) =>
      read.sources.find((s) => s.source === name)!.dryRun.payloads.map((p) => p.park_code);
    expect(codes('north').length).toBeGreaterThan(0);
    expect(codes('north').some((c) => codes('south').includes(c))).toBe(false);
    const oneDry = await runCli(['--source', 'north', 'dry-run', 'parks'], env);
    expect(oneDry.code, oneDry.stderr).toBe(0);
    expect(
      (JSON.parse(oneDry.stdout) as typeof read).sources.map((s) => [s.source, s.dryRun.stream]),
    ).toEqual([['north', 'parks']]);

    // A source file that does not validate: named, the others still checked, exit 1.
    await withInvalidSource(async (folderEnv) => {
      const broken = await runCli(['check'], folderEnv);
      expect(broken.code).toBe(1);
      expect(section(broken.stdout, 'north')).toContain('check passed');
      expect(broken.stdout).toMatch(
        /== source west \(invalid, not shown\) ==\n[\s\S]*west\.yaml: vendor\.commitLagSeconds:/,
      );
      expect(broken.stdout).toContain('check FAILED for 1 of 2 source(s): west');
      const brokenDry = await runCli(['dry-run', 'parks'], folderEnv);
      expect(brokenDry.code).toBe(1);
      expect(sourcesWithError(brokenDry.stdout)).toEqual([
        ['north', false],
        ['west', true],
      ]);
    });
  }, 120_000);

  it('config validates every source: the valid ones printed, an invalid one named by file and key, exit 78', async () => {
    const all = await runCli(['config'], env);
    expect(all.code, all.stderr).toBe(0);
    const printed = JSON.parse(all.stdout) as {
      sources: Array<{ source: string; redisPrefix: string; config: { source: { name: string } } }>;
    };
    expect(printed.sources.map((s) => s.source).sort()).toEqual(['north', 'old', 'south']);
    for (const s of printed.sources) expect(s.config.source.name).toBe(s.source);
    expect(all.stdout).not.toContain(CLIENT_SECRET);
    // One chosen: that config alone, as before sources.
    const one = await runCli(['--source', 'south', 'config'], env);
    expect(one.code, one.stderr).toBe(0);
    expect((JSON.parse(one.stdout) as { source: { name: string } }).source.name).toBe('south');

    await withInvalidSource(async (folderEnv) => {
      const broken = await runCli(['config'], folderEnv);
      expect(broken.code).toBe(78);
      expect(broken.stderr).toMatch(
        /1 of 2 source\(s\) invalid:\n[\s\S]*west\.yaml: vendor\.commitLagSeconds:/,
      );
      expect(sourcesWithError(broken.stdout)).toEqual([
        ['north', false],
        ['west', true],
      ]);
    });
  }, 60_000);

  it('sources list shows each source and a removed one; purge deletes only the removed source keys', async () => {
    const old = sources.get('old')!;
    renameSync(join(dir, 'old.yaml'), join(dir, 'old.yaml.removed'));
    // A password in north's URL is never shown.
    const listEnv = { ...env, VENDOR_DB_URL__NORTH: north.url.replace('root@', 'root:s3cret-pw@') };
    const list = await runCli(['sources', 'list'], listEnv);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toContain('s3cret-pw');
    expect(list.stdout).toMatch(
      new RegExp(
        `\\nnorth\\s+\\{[^ ]+@north\\}\\s+mysql://root:\\*\\*\\*@127\\.0\\.0\\.1:3306/${north.name}\\s+${CLIENT_ID}\\s+yes\\s+1\\n`,
      ),
    );
    expect(list.stdout).toMatch(
      new RegExp(
        `\\nsouth\\s+\\{[^ ]+@south\\}\\s+mysql://root@.*/${south.name}\\s+${CLIENT_ID}\\s+yes\\s+0\\n`,
      ),
    );
    expect(list.stdout).toMatch(
      /no longer in the config[\s\S]*\n\s+old\s+\{[^ ]+@old\}\s+\d+\s+1\s+3\s+isp-park-sync sources purge old/,
    );
    const listed = JSON.parse((await runCli(['sources', 'list', '--json'], env)).stdout) as {
      sources: Array<{ name: string; state: boolean }>;
      unconfigured: Array<{
        name: string;
        prefix: string;
        keys: number;
        failedJobs: number;
        claimedCodes: number;
      }>;
    };
    expect(listed.sources.map((s) => [s.name, s.state])).toEqual([
      ['north', true],
      ['south', true],
    ]);
    const oldPrefix = old.config.redis.prefix;
    expect(listed.unconfigured).toEqual([
      { name: 'old', prefix: oldPrefix, keys: expect.any(Number), failedJobs: 1, claimedCodes: 3 },
    ]);

    // Configured: refused.
    const configured = await runCli(['sources', 'purge', 'north', '--yes'], env);
    expect(configured.code).toBe(1);
    expect(configured.stderr).toContain('source north is in the config');
    // Still served by a process that has not reloaded: refused.
    const served = await runCli(['sources', 'purge', 'old', '--yes'], env);
    expect(served.code).toBe(1);
    expect(served.stderr).toMatch(/worker connection\(s\) still serve the queues under .*@old/);
    await old.workers?.close();
    old.workers = undefined;

    const keep = {
      north: await keysOf(sources.get('north')!.config.redis.prefix),
      south: await keysOf(sources.get('south')!.config.redis.prefix),
    };
    expect(keep.north.length).toBeGreaterThan(10);
    const oldKeys = await keysOf(oldPrefix);
    expect(oldKeys.length).toBeGreaterThan(10);
    expect(existsSync(evidencePath(old.config))).toBe(true);

    // Without --yes: what it would delete, nothing deleted.
    const dry = await runCli(['sources', 'purge', 'old'], env);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toMatch(/would delete \d+ key\(s\) under .*@old\}, 1 failed job\(s\) among them/);
    expect(dry.stdout).toContain('and release the 3 park code(s) it claims (OLD/1, OLD/2, OLD/3)');
    expect(await keysOf(oldPrefix)).toEqual(oldKeys);
    const claims = new ParkClaimStore(redis.client, base);
    const owners = async () => [...new Set((await claims.all()).values())].sort();
    expect(await owners()).toEqual(['north', 'old', 'south']);

    // Its workers recorded where its state lives (how one with a redisPrefix of its own is found).
    expect(await redis.client.hget(sourceRegistryKey(base), 'old')).toBe(oldPrefix);
    const purge = await runCli(['sources', 'purge', 'old', '--yes'], env);
    expect(purge.code, purge.stderr).toBe(0);
    expect(purge.stdout).toMatch(/deleted \d+ key\(s\) under .*@old\} \(1 failed job\(s\) among them\)/);
    expect(await redis.client.keys(`${oldPrefix}*`)).toEqual([]);
    expect(existsSync(evidencePath(old.config))).toBe(false);
    expect(await keysOf(sources.get('north')!.config.redis.prefix)).toEqual(keep.north);
    expect(await keysOf(sources.get('south')!.config.redis.prefix)).toEqual(keep.south);
    // Its park codes are free for another source; the others' claims stay.
    expect(purge.stdout).toContain('released 3 park code(s)');
    expect(await owners()).toEqual(['north', 'south']);
    expect(await redis.client.hget(sourceRegistryKey(base), 'old')).toBeNull();

    const after = JSON.parse((await runCli(['sources', 'list', '--json'], env)).stdout) as typeof listed;
    expect(after.unconfigured).toEqual([]);
  }, 120_000);
});
