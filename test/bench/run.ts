/**
 * `npm run bench [-- --quick] [-- --only group,group] [-- --record | --no-record]`: runs the
 * benchmarks and writes test/bench/results.json and test/bench/results.md; a full run also writes
 * the record kept in the repository, docs/benchmarks/results.json and the table in
 * docs/benchmarks.md (lib/record.ts; `--only … --record` updates just its figures there; --quick never).
 *
 * Groups, in order: ceilings (ISP ingest, transforms, sharp), throughput (mysql keyset ceiling,
 * reader ratio, no-photo throughput, vendor cost, scale-out, baseline), photos, latency, catchup,
 * reconcile, photo-backlog, fleet (several sources in one worker, one source in two).
 * The full run fits in 10 minutes on 2 cores, --quick in 2 (smaller sizes, fewer runs; the file
 * says so). Every database, Redis prefix and user it makes is its own (`ipsbench_…`) and removed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { cpus, freemem, loadavg, release, tmpdir, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import sharp from 'sharp';
import { loadConfig, PROJECT_ROOT } from '../../src/config/index.js';
import { fitOptionsFrom } from '../../src/transform/photo/wire.js';
import { runCatchupGroup } from './catchup.js';
import { runFleetGroup } from './fleet.js';
import { measureIspIngest } from './isp-ingest.js';
import { runLatencyGroup } from './latency.js';
import { undoAll } from './lib/cleanup.js';
import type { BenchContext, Sizes } from './lib/context.js';
import { writeRecord } from './lib/record.js';
import { makeResult, median, type Result, type ResultsFile, toMarkdown, writeResults } from './lib/report.js';
import { BENCH_MYSQL_URL, BENCH_REDIS_URL, removeStaleBenchData } from './lib/services.js';
import { runPhotoBacklogGroup } from './photo-backlog.js';
import { runPhotoWireGroup } from './photo-wire.js';
import { runPhotosGroup } from './photos.js';
import { runReconcileGroup } from './reconcile.js';
import { runThroughputGroup } from './throughput.js';
import { makeOversizePhotos, measureSharpCeiling, measureTransformRows } from './transform.js';

const GROUPS = [
  'ceilings',
  'throughput',
  'photos',
  'latency',
  'catchup',
  'reconcile',
  'photo-backlog',
  'fleet',
] as const;
type Group = (typeof GROUPS)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: 'test/bench' },
    /** Start every worker with --cpu-prof and print where its CPU went (slower; figures not comparable). */
    profile: { type: 'boolean', default: false },
    /** Write the docs record (default: full runs of every group). */
    record: { type: 'boolean' },
  },
  allowNegative: true,
});
if (values.quick && values.record)
  throw new Error('--quick figures are not the reference: --record needs a full run');
if (values.profile) {
  process.env.BENCH_PROFILE_DIR = resolve(tmpdir(), 'isp-park-sync-bench-profiles', String(Date.now()));
  mkdirSync(process.env.BENCH_PROFILE_DIR, { recursive: true });
}
const mode = values.quick ? 'quick' : 'full';
const only = values.only?.split(',').map((s) => s.trim()) ?? [...GROUPS];
for (const g of only) if (!(GROUPS as readonly string[]).includes(g)) throw new Error(`unknown group ${g}`);
// Every figure needs its ceilings, measured in the same run; a group that measures its own beside
// every figure (fleet) does not need the shared ones.
const OWN_CEILINGS: readonly Group[] = ['fleet'];
const needsCeilings = (only as Group[]).some((g) => !OWN_CEILINGS.includes(g));
const groups = new Set<Group>([...(needsCeilings ? (['ceilings'] as const) : []), ...(only as Group[])]);

const defaults = loadConfig({ env: {} });

const FULL: Sizes = {
  ingest: { records: 200_000, batch: 100, inflight: defaults.isp.connections, rounds: 3 },
  transform: { rows: 200_000, rounds: 3 },
  sharp: { photos: 12, rounds: 3, concurrency: defaults.photo.concurrency },
  reader: { rounds: 3 },
  throughput: { visits: 250_000, runs: 2, deadlineSeconds: 150, idleSeconds: 8 },
  scaleout: { runs: 1 },
  baseline: { seconds: 8, runs: 3 },
  photosSmall: { visits: 800, photos: 8, runs: 3, deadlineSeconds: 40, ceilingRecords: 1_000 },
  photosOversize: { visits: 120, runs: 3, deadlineSeconds: 40 },
  latency: { rate: 500, seconds: 60, runs: 1, history: 3_000, idleSeconds: 5 },
  // ~1.88 events per visit over one day (a few cars still inside): 532,000 visits ≈ 1,000,000 events.
  catchup: { visits: 532_000, days: 1, outageSeconds: 15, deadlineSeconds: 200 },
  // ~1.9 events a visit within the day: 532,000 visits ≈ 1,000,000 events.
  reconcile: { visits: 532_000, lots: 200, lotEventsPerDay: 5_000 },
  fleet: {
    rate: 200,
    seconds: 60,
    backlogEvents: 100_000,
    runs: 1,
    scaleoutEvents: 20_000,
    latencyMs: 50,
    connections: 1,
    scaleoutRuns: 3,
    deadlineSeconds: 120,
    idleSources: 20,
    idleSeconds: 60,
    settleSeconds: 5,
  },
};
const QUICK: Sizes = {
  ingest: { records: 100_000, batch: 100, inflight: defaults.isp.connections, rounds: 1 },
  transform: { rows: 50_000, rounds: 2 },
  sharp: { photos: 6, rounds: 2, concurrency: defaults.photo.concurrency },
  reader: { rounds: 1 },
  throughput: { visits: 25_000, runs: 1, deadlineSeconds: 40, idleSeconds: 4 },
  scaleout: { runs: 1 },
  baseline: { seconds: 3, runs: 1 },
  photosSmall: { visits: 300, photos: 4, runs: 1, deadlineSeconds: 20, ceilingRecords: 500 },
  photosOversize: { visits: 40, runs: 1, deadlineSeconds: 20 },
  latency: { rate: 500, seconds: 6, runs: 1, history: 500, idleSeconds: 1 },
  catchup: { visits: 50_000, days: 1, outageSeconds: 6, deadlineSeconds: 40 },
  reconcile: { visits: 50_000, lots: 200, lotEventsPerDay: 5_000 },
  fleet: {
    rate: 200,
    seconds: 6,
    backlogEvents: 5_000,
    runs: 1,
    scaleoutEvents: 4_000,
    latencyMs: 50,
    connections: 1,
    scaleoutRuns: 1,
    deadlineSeconds: 40,
    // Quick runs are a smoke (CI): 10 idle sources start and stop twice as fast as 20.
    idleSources: 10,
    idleSeconds: 8,
    settleSeconds: 3,
  },
};
const sizes = values.quick ? QUICK : FULL;

const started = Date.now();
const startedAt = new Date(started).toISOString();
const loadStart = loadavg()
  .map((x) => x.toFixed(2))
  .join(' ');
const baseCommand = `npm run bench${values.quick ? ' -- --quick' : ''}`;
const results: Result[] = [];
const notes: string[] = [];
const log = (message: string) => {
  console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`);
};
const ctx: BenchContext = {
  mode,
  sizes,
  log,
  add: (result) => {
    results.push(result);
    const ratio = result.ratio === null ? '' : `, ratio ${result.ratio}`;
    const met = result.met === null ? '' : result.met ? ' — target met' : ' — TARGET NOT MET';
    log(
      `=> ${result.id}: ${result.value} ${result.unit} (min ${result.min}, max ${result.max}, n ${result.n}${ratio})${met}`,
    );
  },
  note: (text) => notes.push(text),
  get: (id) => results.find((r) => r.id === id),
  command: (group) =>
    group === 'ceilings' ? baseCommand : `npm run bench -- ${values.quick ? '--quick ' : ''}--only ${group}`,
};

function packageVersion(name: string): string {
  const file = resolve(PROJECT_ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function projectVersion(): string {
  return (JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function serverVersions(): Promise<{ mariadb: string; redis: string }> {
  const conn = await mysql.createConnection({ uri: BENCH_MYSQL_URL });
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
  await conn.end();
  const redis = new Redis(BENCH_REDIS_URL);
  const info = await redis.info('server');
  redis.disconnect();
  return { mariadb: String(rows[0]?.v), redis: /redis_version:(\S+)/.exec(info)?.[1] ?? '?' };
}

async function runCeilings(): Promise<Buffer[]> {
  log(
    `ISP ingest ceiling: ${sizes.ingest.records.toLocaleString('en')} records, ${sizes.ingest.rounds} round(s)`,
  );
  const ingest = await measureIspIngest(sizes.ingest);
  ctx.add(
    makeResult({
      id: 'ceiling-isp-ingest',
      unit: 'records/s',
      runs: ingest,
      note:
        `A bare undici loop in its own process (lib/ingest-client.ts) posting ${sizes.ingest.records.toLocaleString('en')} valid entrances ` +
        `in pre-serialized batches of ${sizes.ingest.batch}, ${sizes.ingest.inflight} requests in flight (the worker's isp.connections), ` +
        'to the simulator (light storage, in the bench process: full validation of every record).',
      command: ctx.command('ceilings'),
    }),
  );
  log(
    `transforms: ${sizes.transform.rows.toLocaleString('en')} entrances + departures, ${sizes.transform.rounds} rounds`,
  );
  ctx.add(
    makeResult({
      id: 'transform-rows-per-second',
      unit: 'rows/s',
      runs: measureTransformRows(sizes.transform.rows, sizes.transform.rounds),
      target: { on: 'value', op: '>=', bound: 200_000, text: '≥ 200,000 rows/s on one core' },
      note:
        'transformEntrance + transformDeparture on raw rows as the reader hands them over (mixed plates, kinds, pay words), ' +
        'no photos, one thread, after a warm-up round; value = all rows ÷ both streams’ time (per-stream rates in the runs). ' +
        'Pure CPU: no ceiling to compare with.',
      command: ctx.command('ceilings'),
    }),
  );
  log(`oversize photo set: ${sizes.sharp.photos} camera JPEGs`);
  const photos = await makeOversizePhotos(sizes.sharp.photos);
  // Two passes over the set per round: longer rounds, steadier rates.
  const sharpRuns = await measureSharpCeiling(
    [...photos, ...photos],
    sizes.sharp.concurrency,
    sizes.sharp.rounds,
  );
  const options = fitOptionsFrom(defaults.photo);
  ctx.add(
    makeResult({
      id: 'ceiling-sharp',
      unit: 'photos/s',
      runs: sharpRuns,
      note:
        `Bare sharp decode + scale + encode of every oversize photo to fitPhoto's output size (longest side ${options.maxDimension}, ` +
        `so the same shrink-on-load), quality 90 and fitPhoto's encoder settings, one libvips thread per photo, ${sizes.sharp.concurrency} at a time ` +
        '(photo.concurrency), two passes over the set per round; fitPhoto on the same images, interleaved, is in the runs.',
      command: ctx.command('ceilings'),
    }),
  );
  const ceiling = ctx.get('ceiling-sharp')!;
  ctx.add(
    makeResult({
      id: 'photo-fit-ratio',
      unit: 'photos/s',
      runs: sharpRuns.map((r) => ({
        value: Number(r.fitPhotoPerSecond),
        ceiling: r.value,
        ratio: Number(r.fitToBare),
        encodesPerPhoto: r.fitEncodesPerPhoto,
        maxEncodes: r.fitMaxEncodes,
      })),
      ceiling: { id: ceiling.id, value: ceiling.value, unit: 'photos/s' },
      ratio: median(sharpRuns.map((r) => Number(r.fitToBare))),
      target: {
        on: 'ratio',
        op: '>=',
        bound: 0.9,
        text: '≥ 0.9 of the bare loop, each round against its own',
      },
      note:
        'fitPhoto (product defaults) over the same photos in the same rounds as ceiling-sharp, interleaved; ratio = median of each ' +
        "round's fitPhoto rate over that round's bare rate. Encodes per photo (mean, max) are in the runs.",
      command: ctx.command('ceilings'),
    }),
  );
  const similarity = sharpRuns.map((r) => r.fitMinSsim).filter((v): v is number => typeof v === 'number');
  ctx.add(
    makeResult({
      id: 'photo-fit-ssim-min',
      unit: 'SSIM',
      runs: similarity.map((value) => ({ value })),
      target: { on: 'value', op: '>=', bound: 0.95, text: '≥ 0.95 (docs/photos.md)' },
      ratio: null,
      note:
        'Lowest SSIM of a fitted photo against its source over the set (greyscale, both scaled to 640 px wide; ' +
        'src/transform/photo/similarity.ts), first round.',
      command: ctx.command('ceilings'),
    }),
  );
  return photos;
}

// Ctrl-C: undo what is open (stacks, server settings), then exit; 'exit' handlers kill child
// workers. A second signal exits at once; the next run removes what a killed one left.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    process.once(signal, () => process.exit(code));
    void undoAll(20_000).finally(() => process.exit(code));
  });
}

let failed = false;
try {
  const removed = await removeStaleBenchData();
  if (removed.length) log(`removed leftovers of killed runs: ${removed.join(', ')}`);
  log(`mode ${mode}; groups ${[...groups].join(', ')}`);
  // As an image build does (Dockerfile): compile the sources once before any worker is timed, so
  // the first run after a change does not pay for it (esbuild, ~0.1-0.3 s inside the first drain).
  execFileSync(process.execPath, [resolve(PROJECT_ROOT, 'bin/isp-park-sync.js'), '--help'], {
    stdio: 'ignore',
  });
  if (process.env.BENCH_PROFILE_DIR) log(`profiling workers into ${process.env.BENCH_PROFILE_DIR}`);
  notes.push(
    values.quick
      ? 'QUICK run: reduced sizes and single runs for most figures; use the full run (`npm run bench`) for reference figures.'
      : 'Full run. Runs per figure: cheap ones 3 (ceilings, reader, transforms, photos, baseline); the expensive ones fewer, ' +
          `to keep the whole run under 10 minutes on 2 cores: preloaded no-photo throughput and vendor cost ${sizes.throughput.runs}, ` +
          `scale-out ${sizes.scaleout.runs}, latency ${sizes.latency.runs} × ${sizes.latency.seconds} s, catch-up 1; ` +
          `fleet: fairness ${sizes.fleet.runs} × ${sizes.fleet.seconds} s per window, scale-out ${sizes.fleet.scaleoutRuns} pairs per setting, idle 1 × ${sizes.fleet.idleSeconds} s.`,
  );
  let oversize: Buffer[] = [];
  const run = async (group: Group, fn: () => Promise<void>) => {
    if (!groups.has(group)) return;
    const t = Date.now();
    try {
      await fn();
    } catch (error) {
      failed = true;
      const message = (error as Error).stack ?? String(error);
      log(`group ${group} FAILED: ${message}`);
      notes.push(`group ${group} failed: ${(error as Error).message}`);
    }
    log(`group ${group} took ${((Date.now() - t) / 1000).toFixed(0)} s`);
  };
  await run('ceilings', async () => {
    oversize = await runCeilings();
  });
  await run('throughput', () => runThroughputGroup(ctx));
  await run('photos', () => runPhotosGroup(ctx, oversize));
  await run('photos', () => runPhotoWireGroup(ctx, oversize));
  await run('latency', () => runLatencyGroup(ctx));
  await run('catchup', () => runCatchupGroup(ctx));
  await run('reconcile', () => runReconcileGroup(ctx));
  await run('photo-backlog', () => runPhotoBacklogGroup(ctx));
  await run('fleet', () => runFleetGroup(ctx));
} finally {
  const servers = await serverVersions().catch(() => ({ mariadb: '?', redis: '?' }));
  const file: ResultsFile = {
    mode,
    notes,
    command: values.only
      ? `npm run bench -- ${values.quick ? '--quick ' : ''}--only ${values.only}${values.record ? ' --record' : ''}`
      : baseCommand,
    startedAt,
    durationSeconds: (Date.now() - started) / 1000,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      memoryGb: Math.round(totalmem() / 1024 ** 3),
      freeMemoryGbAtEnd: Math.round(freemem() / 1024 ** 3),
      os: `${process.platform} ${release()}`,
      loadStart,
      loadEnd: loadavg()
        .map((x) => x.toFixed(2))
        .join(' '),
    },
    versions: {
      node: process.versions.node,
      mariadb: servers.mariadb,
      redis: servers.redis,
      'isp-park-sync': `${projectVersion()}@${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain']) ? '+dirty' : ''}`,
      bullmq: packageVersion('bullmq'),
      ioredis: packageVersion('ioredis'),
      mysql2: packageVersion('mysql2'),
      undici: packageVersion('undici'),
      fastify: packageVersion('fastify'),
      sharp: packageVersion('sharp'),
      libvips: sharp.versions.vips,
      zod: packageVersion('zod'),
    },
    results,
  };
  notes.push(`sizes: ${JSON.stringify(sizes)}`);
  const dir = resolve(PROJECT_ROOT, values.out);
  mkdirSync(dir, { recursive: true });
  writeResults(file, resolve(dir, 'results.json'), resolve(dir, 'results.md'));
  console.log(`\n${toMarkdown(file)}`);
  log(`wrote ${resolve(dir, 'results.json')} and results.md in ${Math.round(file.durationSeconds)} s`);
  const record = values.quick ? false : (values.record ?? !values.only);
  if (record && failed) log('a group failed: the docs record is left as it was');
  else if (record) {
    writeRecord(
      file,
      resolve(PROJECT_ROOT, 'docs/benchmarks/results.json'),
      resolve(PROJECT_ROOT, 'docs/benchmarks.md'),
      !values.only,
    );
    log(
      `updated the record: docs/benchmarks/results.json and docs/benchmarks.md${values.only ? ` (figures of ${values.only})` : ''}`,
    );
  }
}
process.exit(failed ? 1 : 0);
