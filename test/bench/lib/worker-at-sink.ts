/**
 * One child worker draining a stack's seeded backlog into the discard sink, measured without its
 * start-up (photo-wire.ts).
 */
import { cpuSeconds } from './cpu.js';
import type { startDiscardSink } from './discard-sink.js';
import { type Stack, until } from './stack.js';
import { freePort, metricValue } from './worker-process.js';

export type Sink = Awaited<ReturnType<typeof startDiscardSink>>;

/**
 * Starts one child worker on the stack's seeded backlog and measures it against the sink from the
 * `warmup`th event received to the last (start-up left out): events/s, CPU per event and cores.
 * With `perPhoto`, CPU is also divided by the photos the worker finished in that window (its
 * isp_sync_photos_total): a request carries ~20 fitted photos, so the events received in a window
 * lag the photos fitted in it by up to a request's worth per stream.
 */
export async function workerAtSink(
  stack: Stack,
  sink: Sink,
  o: { expected: number; warmup: number; deadlineSeconds: number; label: string; perPhoto?: boolean },
) {
  const webPort = o.perPhoto ? await freePort() : undefined;
  const worker = stack.startWorker({ label: o.label, ...(webPort ? { webPort } : {}) });
  const photos = async () =>
    webPort
      ? metricValue(
          await (await fetch(`http://127.0.0.1:${webPort}/metrics`)).text(),
          'isp_sync_photos_total',
        )
      : Number.NaN;
  const deadline = Date.now() + o.deadlineSeconds * 1000;
  await until(() => sink.events() >= o.warmup, deadline, 20);
  const from = {
    cpu: cpuSeconds(worker.pid) ?? 0,
    events: sink.events(),
    at: Date.now(),
    photos: await photos(),
  };
  const complete = await until(() => sink.events() >= o.expected, deadline, 20);
  const to = {
    cpu: cpuSeconds(worker.pid) ?? 0,
    events: sink.events(),
    at: complete ? sink.lastReceipt() : Date.now(),
    photos: await photos(),
  };
  const peakRssMb = worker.peakRssMb();
  await stack.resetRedis();
  if (!complete) throw new Error(`${o.label}: ${to.events} of ${o.expected} events by the deadline`);
  const events = to.events - from.events;
  const seconds = (to.at - from.at) / 1000;
  const cpuMs = (to.cpu - from.cpu) * 1000;
  return {
    events,
    rate: events / seconds,
    cpuMsPerEvent: cpuMs / events,
    cpuMsPerPhoto: cpuMs / (to.photos - from.photos),
    photos: to.photos - from.photos,
    cores: (to.cpu - from.cpu) / seconds,
    fromSpawnEventsPerSecond: o.expected / ((to.at - worker.spawnedAt) / 1000),
    peakRssMb,
  };
}
