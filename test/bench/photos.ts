/**
 * The photo figures, on the demo style `entry-exit` (photos as file paths under the picture folder,
 * the preset's photo columns on both event streams), every entrance and departure carrying a photo:
 * - `throughput-photos-small`: photos already under the limit (~250 KB camera frames, sent as they
 *   are), events/s against the simulator's ingest rate for records carrying such a photo
 *   (`ceiling-isp-ingest-small-photos`: the bare client, one round right before each run);
 * - `throughput-photos-oversize`: the oversize camera photo set (1–3 MB, 2560×1440 and 3840×2160),
 *   events/s against a bare sharp round over the same set to the same output size right before each
 *   run (`ceiling-sharp`'s loop), and `encodes-per-photo` from the worker's own metrics
 *   (isp_sync_photo_encodes_total ÷ photos sent, scraped from its /metrics). Both throughputs
 *   here measure the simulator too; their goals are on the worker alone (photo-wire.ts).
 * Each run's ratio uses the ceiling measured next to it, so a shared machine's load shifting
 * between the two moves both alike. Rows point at a handful of files (`bench/<n>.jpg`, cycled), as
 * many rows of a gate camera share a folder; the files are read from the page cache.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedDemo } from '../../src/sim/demo-vendor/index.js';
import { measureIspIngest } from './isp-ingest.js';
import type { BenchContext } from './lib/context.js';
import { drain } from './lib/drain.js';
import { makeResult, median, type Run } from './lib/report.js';
import { type Stack, startStack } from './lib/stack.js';
import { freePort, metricValue } from './lib/worker-process.js';
import { makeSmallPhotos, measureSharpCeiling } from './transform.js';

/** Seeds `visits` visits and points every entrance and departure at one of `photos` (cycled). */
export async function seedWithPhotos(stack: Stack, visits: number, photos: Buffer[]): Promise<number> {
  const seed = await seedDemo(stack.db.url, 'entry-exit', { visits, photos: false, lots: 10, days: 1 });
  const dir = join(stack.photoDir, 'bench');
  mkdirSync(dir, { recursive: true });
  photos.forEach((jpeg, i) => {
    writeFileSync(join(dir, `${i}.jpg`), jpeg);
  });
  const k = photos.length;
  await stack.db.admin.query(`UPDATE t_entry SET photo_path = CONCAT('bench/', entry_id % ${k}, '.jpg')`);
  await stack.db.admin.query(`UPDATE t_exit SET photo_path = CONCAT('bench/', exit_id % ${k}, '.jpg')`);
  return seed.entrances + seed.departures;
}

interface PhotoRunOptions {
  expected: number;
  runs: number;
  deadlineSeconds: number;
  what: string;
  /** Measures the run's ceiling right before it. */
  ceiling: () => Promise<number>;
}

async function photoRuns(ctx: BenchContext, stack: Stack, o: PhotoRunOptions): Promise<Run[]> {
  const out: Run[] = [];
  for (let i = 0; i < o.runs; i++) {
    await stack.resetRedis();
    stack.sim.reset();
    const ceiling = await o.ceiling();
    stack.sim.reset();
    ctx.log(
      `${o.what} run ${i + 1}/${o.runs}: ${o.expected} events with photos (ceiling next to it ${ceiling.toFixed(1)}/s)`,
    );
    const webPort = await freePort();
    const worker = stack.startWorker({ webPort, label: o.what });
    const d = await drain(stack, o.expected, {
      startedWorkers: [worker],
      deadlineMs: o.deadlineSeconds * 1000,
    });
    const metrics = await (await fetch(`http://127.0.0.1:${webPort}/metrics`)).text();
    const encodes = metricValue(metrics, 'isp_sync_photo_encodes_total');
    const reencoded = metricValue(metrics, 'isp_sync_photos_total', { outcome: 'reencoded' });
    const stripped = metricValue(metrics, 'isp_sync_photos_total', { outcome: 'stripped' });
    const passthrough = metricValue(metrics, 'isp_sync_photos_total', { outcome: 'passthrough' });
    const unusable = ['missing', 'corrupt', 'refused'].reduce(
      (n, outcome) => n + metricValue(metrics, 'isp_sync_photos_total', { outcome }),
      0,
    );
    out.push({
      value: d.eventsPerSecond,
      ceiling,
      ratio: d.eventsPerSecond / ceiling,
      events: d.delivered,
      expected: d.expected,
      seconds: d.seconds,
      complete: d.complete,
      duplicatesSent: d.extra,
      peakRssMb: d.peakRssMb,
      cpuCores: d.cpu.cores,
      photosReencoded: reencoded,
      photosPassedThrough: passthrough,
      photosStripped: stripped,
      photosUnusable: unusable,
      encodes,
      encodesPerPhoto: encodes / Math.max(1, reencoded + stripped + passthrough),
    });
    ctx.log(
      `  ${d.eventsPerSecond.toFixed(1)} events/s in ${d.seconds.toFixed(1)} s${d.complete ? '' : ' (deadline)'}; ` +
        `${encodes} encodes for ${reencoded + stripped + passthrough} photos; peak RSS ${d.peakRssMb.toFixed(0)} MB`,
    );
    await stack.resetRedis();
  }
  return out;
}

const ratioOf = (runs: Run[]) => median(runs.map((r) => Number(r.ratio)));

export async function runPhotosGroup(ctx: BenchContext, oversize: Buffer[]): Promise<void> {
  const group = 'photos';
  const small = await makeSmallPhotos(ctx.sizes.photosSmall.photos);
  const kb = small.map((b) => b.length / 1024);
  const mb = oversize.map((b) => b.length / 1024 / 1024);
  ctx.note(
    `photo sets: ${small.length} small camera JPEGs 1280×720, ${Math.min(...kb).toFixed(0)}–${Math.max(...kb).toFixed(0)} KB; ` +
      `${oversize.length} oversize 2560×1440 / 3840×2160, ${Math.min(...mb).toFixed(2)}–${Math.max(...mb).toFixed(2)} MB (src/sim/camera-jpeg.ts).`,
  );
  const stack = await startStack({ style: 'entry-exit', photos: true });
  try {
    // (a) small photos, sent as they are.
    const expectedSmall = await seedWithPhotos(stack, ctx.sizes.photosSmall.visits, small);
    const file = join(stack.photoDir, 'bench', '0.jpg');
    const ingestRounds: Run[] = [];
    const smallRuns = await photoRuns(ctx, stack, {
      expected: expectedSmall,
      runs: ctx.sizes.photosSmall.runs,
      deadlineSeconds: ctx.sizes.photosSmall.deadlineSeconds,
      what: 'small photos',
      ceiling: async () => {
        const [round] = await measureIspIngest({
          records: ctx.sizes.photosSmall.ceilingRecords,
          batch: 100,
          inflight: stack.config.isp.connections,
          rounds: 1,
          photoFile: file,
        });
        ingestRounds.push(round!);
        return round!.value;
      },
    });
    ctx.add(
      makeResult({
        id: 'ceiling-isp-ingest-small-photos',
        unit: 'records/s',
        runs: ingestRounds,
        note:
          `As ceiling-isp-ingest, ${ctx.sizes.photosSmall.ceilingRecords.toLocaleString('en')} records per round, every one carrying a ` +
          `${(small[0]!.length / 1024).toFixed(0)} KB photo as a data URI (bodies up to 8 MB, the worker’s bound); one round right before each small-photo run.`,
        command: ctx.command(group),
      }),
    );
    const ceilingSmall = ctx.get('ceiling-isp-ingest-small-photos')!;
    ctx.add(
      makeResult({
        id: 'throughput-photos-small',
        unit: 'events/s',
        runs: smallRuns,
        ceiling: { id: ceilingSmall.id, value: ceilingSmall.value, unit: 'events/s' },
        ratio: ratioOf(smallRuns),
        // No target here: the simulator's own ingest of photo bodies is the bound on two shared cores;
        // the 1,000 events/s goal is on the worker alone (throughput-photos-sink, photo-wire.ts).
        note:
          `${expectedSmall.toLocaleString('en')} entrances + departures (entry-exit style, photo files under PHOTO_ROOT) ` +
          'with photos already under the limit, drained by one child worker (product defaults); time from spawn to the last receipt. ' +
          'Ratio: median of each run against the ingest ceiling measured right before it.',
        command: ctx.command(group),
      }),
    );

    // (b) oversize camera photos, fitted under the limit.
    const expectedBig = await seedWithPhotos(stack, ctx.sizes.photosOversize.visits, oversize);
    const sharpRounds: Run[] = [];
    const bigRuns = await photoRuns(ctx, stack, {
      expected: expectedBig,
      runs: ctx.sizes.photosOversize.runs,
      deadlineSeconds: ctx.sizes.photosOversize.deadlineSeconds,
      what: 'oversize photos',
      ceiling: async () => {
        const [round] = await measureSharpCeiling(
          [...oversize, ...oversize],
          ctx.sizes.sharp.concurrency,
          1,
          {
            similarity: false,
          },
        );
        sharpRounds.push(round!);
        return round!.value;
      },
    });
    ctx.add(
      makeResult({
        id: 'throughput-photos-oversize',
        unit: 'events/s',
        runs: bigRuns,
        ceiling: {
          id: 'ceiling-sharp (round before each run)',
          value: median(sharpRounds.map((r) => r.value)),
          unit: 'photos/s',
        },
        ratio: ratioOf(bigRuns),
        // No target here: the worker shares the two cores with the simulator parsing its 8 MB bodies,
        // the bare round has both; the 0.9 goal is on the worker alone (photo-oversize-cpu-ratio,
        // photo-wire.ts).
        note:
          `${expectedBig.toLocaleString('en')} entrances + departures, each with an oversize camera photo from the set (one photo per event), ` +
          `drained by one child worker (product defaults: photo.concurrency one per core, ${ctx.sizes.sharp.concurrency} here; maxDimension 1280). ` +
          'Ratio: median of each run against a bare sharp round over the same set, to the same output size, measured right before it.',
        command: ctx.command(group),
      }),
    );
    ctx.add(
      makeResult({
        id: 'encodes-per-photo',
        unit: 'encodes/photo',
        runs: bigRuns.map((r) => ({
          value: Number(r.encodesPerPhoto),
          encodes: r.encodes,
          photos: r.photosReencoded,
        })),
        target: { on: 'value', op: '<=', bound: 2, text: '≤ 2 (fitPhoto never does a third)' },
        ratio: null,
        note: "Full JPEG encodes per oversize photo in the runs above, from the worker's isp_sync_photo_encodes_total and isp_sync_photos_total (its /metrics).",
        command: ctx.command(group),
      }),
    );
  } finally {
    await stack.close();
  }
}
