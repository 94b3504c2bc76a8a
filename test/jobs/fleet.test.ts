/**
 * The fleet of sources in one process, on real Redis, MariaDB and the simulator: a park code
 * claimed twice refuses the start; a source whose database is down does not keep the others from
 * starting, and they share the process's photo slots in turn; sources are added, removed (polling
 * stops, state stays), kept on an invalid new config, and a newcomer claiming another source's lot
 * is refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Fleet } from '../../jobs/fleet.js';
import {
  type Config,
  ConfigError,
  deepMerge,
  type ResolvedSources,
  sourcePrefix,
} from '../../src/config/index.js';
import { silentLogger } from '../../src/log.js';
import { missingSchedules } from '../../src/pipeline/schedules.js';
import { createDemoSchema, demoConfig, seedDemo } from '../../src/sim/demo-vendor/index.js';
import { type Simulator, startSimulator } from '../../src/sim/isp/index.js';
import { CLIENT_ID, CLIENT_SECRET, FAST } from '../helpers/pipeline.js';
import {
  createTestDatabase,
  createTestRedis,
  deleteKeys,
  type TestDatabase,
  type TestRedis,
} from '../helpers/services.js';

const ROLES = new Set(['scheduler', 'poller', 'pusher'] as const);

let cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

async function services(): Promise<{ sim: Simulator; redis: TestRedis }> {
  const sim = await startSimulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  const redis = await createTestRedis();
  cleanups.push(
    () => sim.close(),
    async () => {
      // Every source's keys: `{t_…@name}…` as well as the deployment's own `{t_…}…`.
      await deleteKeys(redis.client, `${redis.prefix.slice(0, -1)}*`);
      await redis.cleanup();
    },
  );
  return { sim, redis };
}

/** A visit-table database with `lots` lots whose codes start with `codePrefix`. */
async function vendorDb(codePrefix: string, lots = 3): Promise<TestDatabase> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  await createDemoSchema(db.url, 'visit-table');
  await seedDemo(db.url, 'visit-table', { lots, visits: 0, photos: false, days: 1 });
  await db.admin.query('UPDATE parkinfo SET park_no = CONCAT(?, park_no)', [codePrefix]);
  return db;
}

function sourceConfig(name: string, url: string, sim: Simulator, redis: TestRedis): Config {
  return demoConfig(
    'visit-table',
    url,
    deepMerge(FAST, {
      source: { name },
      isp: { baseUrl: sim.url, auth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } },
      redis: { url: redis.url, prefix: sourcePrefix(redis.prefix, name) },
      log: { level: 'warn' },
    }),
  );
}

function sources(...configs: Config[]): ResolvedSources {
  return { multi: true, configs, problems: [] };
}

async function startFleet(resolved: ResolvedSources): Promise<Fleet> {
  const fleet = await Fleet.start(resolved, { roles: ROLES, logger: silentLogger });
  cleanups.push(async () => {
    for (const s of fleet.sources()) for (const q of s.rt.queues.all()) await q.obliterate({ force: true });
    await fleet.close();
  });
  return fleet;
}

async function keyCount(redis: TestRedis, prefix: string): Promise<number> {
  let count = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    count += keys.length;
  } while (cursor !== '0');
  return count;
}

describe('a fleet of sources', () => {
  it('refuses to start when two sources claim one park code, naming the code and both sources', async () => {
    const { sim, redis } = await services();
    const [a, b] = [await vendorDb(''), await vendorDb('')];
    const start = Fleet.start(
      sources(sourceConfig('north', a.url, sim, redis), sourceConfig('south', b.url, sim, redis)),
      { roles: ROLES, logger: silentLogger },
    );
    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(/park code ATXL\/1 is claimed by north and south/);
    // Nothing was started: no job scheduler of either source exists.
    expect(await redis.client.keys(`${redis.prefix.slice(0, -1)}@*}:*:repeat*`)).toEqual([]);
  });

  it('starts every source while one database is down; that one shows as not ready; they share the photo slots', async () => {
    const { sim, redis } = await services();
    const up = await vendorDb('N');
    const downUrl = `${up.url}_missing`;
    const fleet = await startFleet(
      sources(sourceConfig('north', up.url, sim, redis), sourceConfig('west', downUrl, sim, redis)),
    );
    expect(fleet.sources().map((s) => s.name)).toEqual(['north', 'west']);
    const [north, west] = fleet.sources();
    // The reachable source delivers its lots meanwhile.
    await waitUntil(
      async () => sim.state.lots.list().filter((l) => l.status === 'registered').length >= 3,
      15_000,
    );
    const westReady = await west!.readiness();
    expect(westReady.ok).toBe(false);
    expect(westReady.checks.mysql?.ok).toBe(false);
    expect((await north!.readiness()).checks.mysql?.ok).toBe(true);

    // The sources share the process's photo slots: west fills them all and queues more, and north's
    // one photo takes the next free slot, ahead of west's queue.
    const size = north!.rt.config.photo.concurrency;
    const gates: Array<() => void> = [];
    const held = () => new Promise<void>((resolve) => gates.push(resolve));
    const tick = () => new Promise((r) => setImmediate(r));
    const westPhotos = Array.from({ length: size + 3 }, () => west!.rt.photoLimiter(held));
    await tick();
    expect(gates).toHaveLength(size);
    let northFitted = false;
    const northPhoto = north!.rt.photoLimiter(async () => {
      northFitted = true;
    });
    await tick();
    expect(northFitted).toBe(false);
    gates.shift()!();
    await northPhoto;
    expect(northFitted).toBe(true);
    while (gates.length > 0) {
      gates.shift()!();
      await tick();
    }
    await Promise.all(westPhotos);
  });

  it('adds, removes (polling stops, state stays), keeps an invalid change, refuses a newcomer on a taken code', async () => {
    const { sim, redis } = await services();
    const [n, s, w] = [await vendorDb('N'), await vendorDb('S'), await vendorDb('N')];
    const north = sourceConfig('north', n.url, sim, redis);
    // South asks for more photos at once than the process's slots were sized for at start.
    const southPhotos = north.photo.concurrency + 2;
    const south = deepMerge(sourceConfig('south', s.url, sim, redis) as unknown as Record<string, unknown>, {
      photo: { concurrency: southPhotos },
    }) as unknown as Config;
    const fleet = await startFleet(sources(north));
    let changes = 0;
    fleet.onChange(() => changes++);

    const added = await fleet.apply(sources(north, south));
    expect(added).toMatchObject({ added: ['south'], removed: [], restarted: [] });
    expect(changes).toBe(1);
    const southRt = fleet.sources().find((x) => x.name === 'south')!.rt;
    expect(await missingSchedules(southRt.queues)).toEqual([]);
    // The process's slots grew for it: south fits as many photos at once as it asks, no more.
    const gates: Array<() => void> = [];
    const photos = Array.from({ length: southPhotos + 1 }, () =>
      southRt.photoLimiter(() => new Promise<void>((resolve) => gates.push(resolve))),
    );
    await new Promise((r) => setImmediate(r));
    expect(gates).toHaveLength(southPhotos);
    while (gates.length > 0) {
      gates.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(photos);
    // Polls are singletons per source and stream, across every process running the fleet.
    for (const q of Object.values(southRt.queues.poll)) expect(await q.getGlobalConcurrency()).toBe(1);
    await waitUntil(
      async () => sim.state.lots.list().filter((l) => l.status === 'registered').length >= 6,
      15_000,
    );
    const southPrefix = sourcePrefix(redis.prefix, 'south');
    const southKeys = await keyCount(redis, southPrefix);
    expect(southKeys).toBeGreaterThan(0);

    // (The pattern the checks below use finds its job schedulers while it runs.)
    expect((await redis.client.keys(`${southPrefix}:poll-*:repeat*`)).length).toBeGreaterThan(0);
    expect((await redis.client.keys(`${redis.prefix.slice(0, -1)}@*}:*:repeat*`)).length).toBeGreaterThan(0);
    const removed = await fleet.apply(sources(north));
    expect(removed.removed).toEqual(['south']);
    expect(fleet.sources().map((x) => x.name)).toEqual(['north']);
    expect(fleet.idle()).toMatchObject([{ name: 'south', state: 'removed' }]);
    // No process polls it any more; what it knew stays (checkpoints, lot changes, ledger).
    const schedulers = await redis.client.keys(`${southPrefix}:poll-*:repeat*`);
    expect(schedulers).toEqual([]);
    expect(await keyCount(redis, `${southPrefix}:`)).toBeGreaterThan(0);

    // An invalid new config for north: north keeps running the one it has.
    const before = fleet.sources()[0]!.rt;
    const kept = await fleet.apply({
      multi: true,
      configs: [],
      problems: [
        {
          origin: '/etc/sources/north.yaml',
          name: 'north',
          error: new ConfigError('north.yaml: vendor.url: bad'),
        },
      ],
    });
    expect(kept.kept.map((k) => k.name)).toEqual(['north']);
    expect(fleet.sources()[0]!.rt).toBe(before);

    // A newcomer whose lots are north's codes is refused, north untouched.
    const refused = await fleet.apply(sources(north, sourceConfig('west', w.url, sim, redis)));
    expect(refused.added).toEqual([]);
    expect(refused.kept[0]).toMatchObject({ name: 'west' });
    expect(refused.kept[0]!.reason).toMatch(/park code N\S+ is claimed by (north and west|west and north)/);
    expect(fleet.idle().find((x) => x.name === 'west')).toMatchObject({ state: 'refused' });
    expect(fleet.sources().map((x) => x.name)).toEqual(['north']);

    // A changed config restarts the source on it.
    const faster = deepMerge(north as unknown as Record<string, unknown>, {
      streams: { spotNums: { pollEveryMs: 400 } },
    }) as unknown as Config;
    const restarted = await fleet.apply(sources(faster));
    expect(restarted.restarted).toEqual(['north']);
    expect(fleet.sources()[0]!.config.streams.spotNums.pollEveryMs).toBe(400);
  });

  it("quarantines a lot a source adds later under another source's park code, and sends nothing of it", async () => {
    const { sim, redis } = await services();
    const [n, s] = [await vendorDb('N'), await vendorDb('S')];
    const north = sourceConfig('north', n.url, sim, redis);
    const south = sourceConfig('south', s.url, sim, redis);
    // As the loader sets it for every source of a many-source config.
    for (const c of [north, south]) c.source.fleetPrefix = redis.prefix;
    const fleet = await startFleet(sources(north, south));
    const registered = () => sim.state.lots.list().filter((l) => l.status === 'registered');
    await waitUntil(async () => registered().length >= 6, 15_000);
    const southRt = fleet.sources().find((x) => x.name === 'south')!.rt;
    expect(await southRt.claims!.all()).toEqual(
      new Map([
        ...['NATXL/1', 'NATXL/2', 'NATXL/3'].map((c) => [c, 'north'] as const),
        ...['SATXL/1', 'SATXL/2', 'SATXL/3'].map((c) => [c, 'south'] as const),
      ]),
    );
    const northLot = (
      await n.admin.query('SELECT park_name FROM parkinfo WHERE park_no = ?', ['NATXL/2'])
    )[0] as unknown as Array<{ park_name: string }>;

    // South's operator adds a lot whose code is north's, with a name of its own.
    await s.admin.query(
      "INSERT INTO parkinfo (park_no, park_name, park_addr, lng, lat, total_num, used_num) VALUES ('NATXL/2', 'South copy', 'x', 117.1, 36.6, 50, 1)",
    );
    const quarantined = async () =>
      (await southRt.quarantine.list({ stream: 'parks' })).entries.some((e) =>
        e.reasons.some(
          (r) => r.code === 'park-code-of-another-source' && /belongs to source north/.test(r.message),
        ),
      );
    await waitUntil(quarantined, 20_000);
    await waitUntil(
      async () =>
        (await southRt.quarantine.list({ stream: 'spotNums' })).entries.some((e) =>
          e.reasons.some((r) => r.code === 'park-code-of-another-source'),
        ),
      20_000,
    );
    // ISP still has north's lot as north sent it.
    expect(sim.state.lot('NATXL/2')?.park?.park_name).toBe(northLot[0]!.park_name);
    expect(await southRt.lotChanges.delivered('parks')).not.toContain('NATXL/2');
  });
});

async function waitUntil(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
