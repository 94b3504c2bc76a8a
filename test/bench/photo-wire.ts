/**
 * The photo worker alone, without the simulator's cost (part of `--only photos`):
 * - `photo-wire-cpu-ratio`: the worker's CPU per 1,000 events carrying a photo already under the
 *   limit (file photos, sent as they are), against a discard sink (lib/discard-sink.ts: answers
 *   ISP's success without parsing), ÷ the CPU per 1,000 of a bare loop doing the irreducible part
 *   in its own process against the same sink in the same run (lib/photo-bare-client.ts: read the
 *   same file, Base64, serialize the JSON body, write it to the socket). Both exclude start-up:
 *   CPU is counted from the first `warmup` events received to the last. Target ≤ 1.3.
 * - `throughput-photos-sink`: the worker's events/s over the same window (target ≥ 1,000), beside
 *   the bare loop's.
 * - `photo-url-fetch-ratio`: photos fetched by URL as the worker fetches them (loadPhoto through
 *   the worker's photo dispatcher: keep-alive, bounded connections, timeouts) ÷ a bare undici loop
 *   against the same local photo server at the same concurrency, rounds interleaved in one child
 *   process (lib/url-fetch-client.ts). Target ≥ 0.8.
 * Sizes are this file's own (full / quick), so the runner's size table stays as it is.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { runScript } from './lib/child.js';
import type { BenchContext } from './lib/context.js';
import { cpuSeconds } from './lib/cpu.js';
import { startDiscardSink } from './lib/discard-sink.js';
import { makeResult, median, type Run } from './lib/report.js';
import { startStack, until } from './lib/stack.js';
import { seedWithPhotos } from './photos.js';
import { makeSmallPhotos } from './transform.js';

// The bare loop serializes as a plain client would (JSON.stringify): several ms of CPU per event
// here, which keeps these sizes small.
const SIZES = {
  full: { visits: 1_500, photos: 8, runs: 3, deadlineSeconds: 90, urlPhotos: 1_000, urlRounds: 3 },
  quick: { visits: 300, photos: 4, runs: 1, deadlineSeconds: 40, urlPhotos: 200, urlRounds: 1 },
};

export const BARE_CLIENT = 'test/bench/lib/photo-bare-client.ts';
export const URL_CLIENT = 'test/bench/lib/url-fetch-client.ts';

export async function runPhotoWireGroup(ctx: BenchContext): Promise<void> {
  const group = 'photos';
  const size = SIZES[ctx.mode];
  const small = await makeSmallPhotos(size.photos);
  const sink = await startDiscardSink();
  const stack = await startStack({ style: 'entry-exit', photos: true, ispUrl: sink.url });
  const workerRuns: Run[] = [];
  const bareRuns: Run[] = [];
  try {
    const expected = await seedWithPhotos(stack, size.visits, small);
    const warmup = Math.round(expected * 0.15);
    for (let i = 0; i < size.runs; i++) {
      // The bare loop first, then the worker: a load shift between them moves both alike.
      sink.reset();
      const bare = await runScript<{ events: number; ms: number; cpuMs: number; measuredEvents: number }>(
        BARE_CLIENT,
        [
          sink.url,
          join(stack.photoDir, 'bench'),
          String(small.length),
          String(expected),
          String(stack.config.isp.connections),
          String(warmup),
        ],
      );
      const bareCpu = bare.cpuMs / bare.measuredEvents;
      bareRuns.push({
        value: (bare.events / bare.ms) * 1000,
        cpuMsPerEvent: bareCpu,
        seconds: bare.ms / 1000,
      });

      await stack.resetRedis();
      sink.reset();
      ctx.log(
        `photos at the sink, run ${i + 1}/${size.runs}: ${expected} events (bare loop ${bareRuns.at(-1)!.value.toFixed(0)}/s)`,
      );
      const worker = stack.startWorker({ label: 'photos at the sink' });
      const deadline = Date.now() + size.deadlineSeconds * 1000;
      await until(() => sink.events() >= warmup, deadline, 20);
      const from = { cpu: cpuSeconds(worker.pid) ?? 0, events: sink.events(), at: Date.now() };
      const complete = await until(() => sink.events() >= expected, deadline, 20);
      const to = {
        cpu: cpuSeconds(worker.pid) ?? 0,
        events: sink.events(),
        at: complete ? sink.lastReceipt() : Date.now(),
      };
      const peakRssMb = worker.peakRssMb();
      await stack.resetRedis();
      if (!complete)
        throw new Error(`photos at the sink: ${to.events} of ${expected} events by the deadline`);
      const events = to.events - from.events;
      const cpuMsPerEvent = ((to.cpu - from.cpu) * 1000) / events;
      const rate = events / ((to.at - from.at) / 1000);
      workerRuns.push({
        value: rate,
        ceiling: bareRuns.at(-1)!.value,
        cpuMsPerEvent,
        bareCpuMsPerEvent: bareCpu,
        cpuRatio: cpuMsPerEvent / bareCpu,
        events,
        fromSpawnEventsPerSecond: expected / ((to.at - worker.spawnedAt) / 1000),
        peakRssMb,
        ispConnections: sink.connections(),
      });
      ctx.log(
        `  worker ${rate.toFixed(0)} events/s, ${(cpuMsPerEvent * 1000).toFixed(0)} ms CPU per 1,000 ` +
          `(bare ${(bareCpu * 1000).toFixed(0)} ms: ${(cpuMsPerEvent / bareCpu).toFixed(2)}×); peak RSS ${peakRssMb.toFixed(0)} MB`,
      );
    }
    const note =
      `${expected.toLocaleString('en')} entrances + departures (entry-exit style, file photos of ${Math.round(small[0]!.length / 1024)} KB ` +
      `already under the limit) drained by one child worker (product defaults) against a discard sink in the bench process; ` +
      `CPU from /proc/<pid>/stat from the ${warmup.toLocaleString('en')}th event received to the last. ` +
      `Bare loop: ${BARE_CLIENT}, its own process.cpuUsage over the same events, ${stack.config.isp.connections} requests in flight.`;
    ctx.add(
      makeResult({
        id: 'photo-wire-cpu-ratio',
        unit: '× bare CPU',
        runs: workerRuns.map((r) => ({
          value: Number(r.cpuRatio),
          workerMsPer1000: Number(r.cpuMsPerEvent) * 1000,
          bareMsPer1000: Number(r.bareCpuMsPerEvent) * 1000,
        })),
        ceiling: {
          id: 'bare read + Base64 + JSON + write loop, CPU per 1,000 events',
          value: median(bareRuns.map((r) => Number(r.cpuMsPerEvent) * 1000)),
          unit: 'ms',
        },
        ratio: median(workerRuns.map((r) => Number(r.cpuRatio))),
        target: { on: 'ratio', op: '<=', bound: 1.3, text: '≤ 1.3 × the bare loop’s CPU' },
        note: `Worker CPU per 1,000 photo events ÷ the bare loop's, per run. ${note}`,
        command: ctx.command(group),
      }),
    );
    ctx.add(
      makeResult({
        id: 'throughput-photos-sink',
        unit: 'events/s',
        runs: workerRuns,
        ceiling: {
          id: 'bare loop against the same sink',
          value: median(bareRuns.map((r) => r.value)),
          unit: 'events/s',
        },
        target: { on: 'value', op: '>=', bound: 1000, text: '≥ 1,000 events/s' },
        note: `Events/s over the measured window (start-up excluded; from spawn in the runs). ${note}`,
        command: ctx.command(group),
      }),
    );
  } finally {
    await stack.close();
    await sink.close();
  }
  await measureUrlFetch(ctx, small, size.urlPhotos, size.urlRounds);
}

/** A local camera server: serves the photo set from memory, counts TCP connections. */
async function startPhotoServer(photos: Buffer[]) {
  let connections = 0;
  const server: Server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    const n = Number(/\/(\d+)\.jpg$/.exec(req.url ?? '')?.[1] ?? -1);
    const body = photos[n % photos.length];
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': body.length });
    res.end(body);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    reset: () => {
      connections = 0;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

async function measureUrlFetch(ctx: BenchContext, photos: Buffer[], count: number, rounds: number) {
  const server = await startPhotoServer(photos);
  try {
    const out = await runScript<{
      rounds: Array<{ bare: number; product: number; connections: number; bareConnections: number }>;
    }>(URL_CLIENT, [server.url, String(count), String(rounds)]);
    const runs: Run[] = out.rounds.map((r) => ({
      value: r.product / r.bare,
      productPhotosPerSecond: r.product,
      barePhotosPerSecond: r.bare,
      productConnections: r.connections,
      bareConnections: r.bareConnections,
    }));
    ctx.add(
      makeResult({
        id: 'photo-url-fetch-ratio',
        unit: '× bare fetch',
        runs,
        ceiling: {
          id: 'bare undici request loop, same server and concurrency',
          value: median(out.rounds.map((r) => r.bare)),
          unit: 'photos/s',
        },
        ratio: median(runs.map((r) => r.value)),
        target: { on: 'ratio', op: '>=', bound: 0.8, text: '≥ 0.8 of a bare undici loop' },
        note:
          `${count.toLocaleString('en')} photos of ${Math.round(photos[0]!.length / 1024)} KB per round fetched from a local HTTP server ` +
          'in the bench process, by loadPhoto through the worker’s photo dispatcher (createPhotoDispatcher) and by a bare ' +
          `undici Pool loop, both at the worker's photo.fetchConcurrency, rounds interleaved in one child after a warm-up round (${URL_CLIENT}). ` +
          `Connections the product opened per measured round: ${out.rounds.map((r) => r.connections).join(', ')} ` +
          `(the server accepted ${server.connections()} in all, warm-up included).`,
        command: ctx.command('photos'),
      }),
    );
  } finally {
    await server.close();
  }
}
