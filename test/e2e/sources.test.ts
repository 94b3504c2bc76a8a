/**
 * Three vendor systems, one process: a visit table, an entry/exit schema with its own ISP client,
 * and a visit that lives in two tables (UNION ALL), each in its own database, given as files in a
 * sources folder. Every event of each reaches ISP exactly once, with its source's credentials; a
 * source added to the folder while running starts; an invalid file keeps its source on the old
 * config; a source removed stops polling (its new rows are not sent) while the others go on.
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Fleet } from '../../jobs/fleet.js';
import { type SourceWatch, watchSources } from '../../jobs/source-watch.js';
import { loadSources, SOURCES_DIR_VAR } from '../../src/config/index.js';
import { type Simulator, startSimulator } from '../../src/sim/isp/index.js';
import { closeDemoDatabases, createDemoDatabases, type DemoDatabase } from '../helpers/demo-databases.js';
import { sendersByLotPrefix } from '../helpers/expected.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  FAST,
  LATE_HOLD_MS,
  TEST_STATE_DIR,
  waitFor,
} from '../helpers/pipeline.js';
import { createTestRedis, deleteKeys, type TestRedis } from '../helpers/services.js';
import { splitVisits, unionMapping } from '../helpers/split-visits.js';

const SOUTH_CLIENT = { clientId: 'south-operator', clientSecret: 'south-secret-never-logged' };
const ROLES = new Set(['scheduler', 'poller', 'pusher'] as const);

let cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  cleanups = [];
});

type Kind = 'entrance' | 'departure';

/** Natural keys the simulator received of one source's lots (by its lot prefix), duplicates kept. */
function receivedOf(sim: Simulator, source: DemoDatabase, kind: Kind): string[] {
  const timeField = kind === 'entrance' ? 'enter_time' : 'depart_time';
  return sim.state
    .received(kind, 0, 10_000_000)
    .map((e) => e.record as Record<string, unknown>)
    .filter((r) => source.ownsLot(String(r.park_code)))
    .map((r) => `${r.park_code}|${r.plate_number}|${r[timeField]}`)
    .sort();
}

async function deliveredExactly(
  sim: Simulator,
  source: DemoDatabase,
  want: { entrances: Array<{ key: string }>; departures: Array<{ key: string }> },
) {
  const wanted = {
    entrance: want.entrances.map((e) => e.key).sort(),
    departure: want.departures.map((e) => e.key).sort(),
  };
  await waitFor(
    `every event of ${source.lotPrefix} delivered`,
    () =>
      receivedOf(sim, source, 'entrance').length >= wanted.entrance.length &&
      receivedOf(sim, source, 'departure').length >= wanted.departure.length,
    90_000,
  );
  // A moment more: anything sent twice shows now.
  await new Promise((r) => setTimeout(r, 1_000));
  for (const kind of ['entrance', 'departure'] as const)
    expect(receivedOf(sim, source, kind), `${source.lotPrefix} ${kind}s`).toEqual(wanted[kind]);
}

describe('several sources in one process', () => {
  it('delivers each exactly once with its own credentials; sources come, change and go while it runs', async () => {
    const sim = await startSimulator({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      clients: [SOUTH_CLIENT],
    });
    cleanups.push(() => sim.close());
    const redis: TestRedis = await createTestRedis();
    cleanups.push(async () => {
      await deleteKeys(redis.client, `${redis.prefix.slice(0, -1)}*`);
      await redis.cleanup();
    });
    const seed = { lots: 4, visits: 160, photoRows: 20, days: 1 };
    const dbs = await createDemoDatabases([
      { style: 'visit-table', lotPrefix: 'NORTH', seed },
      { style: 'entry-exit', lotPrefix: 'SOUTH', seed },
      { style: 'visit-table', lotPrefix: 'EAST', seed },
    ]);
    cleanups.push(() => closeDemoDatabases(dbs));
    const [north, south, east] = dbs as [DemoDatabase, DemoDatabase, DemoDatabase];
    // The third style: east's older visits moved to a history table, read through UNION ALL.
    const eastExpected = await east.expected();
    expect(await splitVisits(east.db.admin, 'car_inout_hist', 80)).toBe(80);

    const dir = mkdtempSync(join(tmpdir(), 'ips-sources-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env: NodeJS.ProcessEnv = {
      [SOURCES_DIR_VAR]: dir,
      ISP_BASE_URL: sim.url,
      ISP_CLIENT_ID: CLIENT_ID,
      ISP_CLIENT_SECRET: CLIENT_SECRET,
      ISP_CLIENT_SECRET__SOUTH: SOUTH_CLIENT.clientSecret,
      VENDOR_DB_URL__NORTH: north.db.url,
      VENDOR_DB_URL__SOUTH: south.db.url,
      VENDOR_DB_URL__EAST: east.db.url,
      PHOTO_ROOT__SOUTH: south.photoDir,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      STATE_DIR: TEST_STATE_DIR,
    };
    const { redis: _r, ...fast } = FAST;
    const load = () => loadSources({ files: [], env, overrides: { ...fast, log: { level: 'warn' } } });
    const northFile = join(dir, 'north.yaml');
    writeFileSync(northFile, 'extends: config/presets/visit-table.yaml\n');
    writeFileSync(
      join(dir, 'south.yaml'),
      `extends: config/presets/entry-exit.yaml\nisp:\n  auth:\n    clientId: ${SOUTH_CLIENT.clientId}\n`,
    );

    // What the reloads say (the log is the operator's view of a reload).
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const fleet = await Fleet.start(load(), { roles: ROLES, logger });
    cleanups.push(async () => {
      for (const s of fleet.sources()) for (const q of s.rt.queues.all()) await q.obliterate({ force: true });
      await fleet.close();
    });
    const watch: SourceWatch = watchSources(fleet, load, { dir, logger, debounceMs: 200 });
    cleanups.push(() => watch.close());
    expect(fleet.sources().map((s) => [s.name, s.rt.config.redis.prefix])).toEqual([
      ['north', `${redis.prefix.slice(0, -1)}@north}`],
      ['south', `${redis.prefix.slice(0, -1)}@south}`],
    ]);

    await deliveredExactly(sim, north, await north.expected());
    await deliveredExactly(sim, south, await south.expected());

    // Added while running: a file dropped into the folder (picked up by the folder watch).
    writeFileSync(
      join(dir, 'east.json'),
      JSON.stringify({
        extends: 'config/presets/visit-table.yaml',
        streams: unionMapping(['car_inout_hist', 'car_inout']).streams,
      }),
    );
    await waitFor('east started', () => fleet.sources().some((s) => s.name === 'east'), 20_000);
    await deliveredExactly(sim, east, eastExpected);

    // An invalid change (SIGHUP): north keeps running its previous config.
    const northRt = fleet.sources().find((s) => s.name === 'north')!.rt;
    writeFileSync(northFile, 'extends: config/presets/visit-table.yaml\nvendor:\n  timeZone: Mars/Olympus\n');
    process.kill(process.pid, 'SIGHUP');
    await waitFor(
      'the SIGHUP reload',
      () => lines.some((l) => l.reason === 'SIGHUP' && l.msg === 'sources reloaded'),
      20_000,
    );
    const hup = lines.find((l) => l.reason === 'SIGHUP' && l.msg === 'sources reloaded')!;
    expect(hup.kept).toEqual(['north']);
    expect(
      lines.some(
        (l) =>
          l.source === 'north' && JSON.stringify(l.problems ?? []).includes('north.yaml: vendor.timeZone'),
      ),
    ).toBe(true);
    expect(fleet.sources().find((s) => s.name === 'north')!.rt).toBe(northRt);
    await deliveredExactly(sim, north, await north.expected());

    // Removed: south stops polling; its new rows are not sent, the others' are.
    unlinkSync(join(dir, 'south.yaml'));
    await waitFor(
      'south removed',
      () => fleet.idle().some((s) => s.name === 'south' && s.state === 'removed'),
      20_000,
    );
    const southBefore = receivedOf(sim, south, 'entrance').length;
    // Transactions held at most LATE_HOLD_MS: well under the 2 s commit-lag guard of these tests.
    const traffic = await Promise.all([
      north.traffic({ ratePerSecond: 40, durationMs: 2_000, photos: false, seed: 5, holdMs: LATE_HOLD_MS }),
      south.traffic({ ratePerSecond: 40, durationMs: 2_000, photos: false, seed: 6, holdMs: LATE_HOLD_MS }),
    ]);
    await Promise.all(traffic.map((t) => t.done));
    await deliveredExactly(sim, north, await north.expected());
    await new Promise((r) => setTimeout(r, 2_000));
    expect(receivedOf(sim, south, 'entrance').length).toBe(southBefore);
    expect((await south.expected()).entrances.length).toBeGreaterThan(southBefore);

    // Each source delivered with its own credentials.
    for (const kind of ['entrance', 'departure'] as const) {
      const senders = sendersByLotPrefix(sim, kind);
      expect([...(senders.get('SOUTH') ?? [])]).toEqual([SOUTH_CLIENT.clientId]);
      expect([...(senders.get('NORTH') ?? [])]).toEqual([CLIENT_ID]);
      expect([...(senders.get('EAST') ?? [])]).toEqual([CLIENT_ID]);
    }
  }, 240_000);
});
