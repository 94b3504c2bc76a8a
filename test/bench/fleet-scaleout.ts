/**
 * `fleet-scaleout-ratio`: when ISP is slow and each process's connections to it are bounded, does a
 * second worker process on the same source (same Redis prefix, same queues) double the rate? The
 * simulator answers every ISP request 50 ms late (fault `latencyMs`); every worker has
 * `isp.connections` and `pipeline.pushConcurrency` set low, so one process cannot have more than a
 * few requests in flight. A preloaded backlog (visit table, no photos) is drained by 1 and by 2
 * child worker processes, alternately, from an empty Redis state each time.
 *
 * The rate is taken between the receipts of 10% and 90% of the events: start-up (process, first
 * polls, lot registration) is the same for 1 and 2 processes and would otherwise weigh on the
 * shorter drain. Spawn-to-last-receipt rates are in the runs.
 */
import type { BenchContext } from './lib/context.js';
import { cpuSeconds } from './lib/cpu.js';
import { type FleetStack, receiptTimes, receivedEvents, startFleetStack } from './lib/fleet-stack.js';
import { makeResult, median, type Run } from './lib/report.js';
import { until } from './lib/stack.js';

const SOURCE = { name: 'scale', codePrefix: 'S' };
const EVENTS_PER_VISIT = 1.98;

interface DrainRun {
  workers: number;
  eventsPerSecond: number;
  spawnToLastEventsPerSecond: number;
  seconds: number;
  delivered: number;
  expected: number;
  complete: boolean;
  duplicates: number;
  /** CPU seconds of each process from spawn to the last receipt (which process did the work). */
  workerCpuSeconds: number[];
}

async function drainWith(
  stack: FleetStack,
  workers: number,
  expected: number,
  deadlineMs: number,
): Promise<DrainRun> {
  await stack.reset();
  const procs = Array.from({ length: workers }, (_, i) =>
    stack.startWorker({ label: `fleet scale-out ${i + 1}/${workers}` }),
  );
  const spawned = Math.min(...procs.map((p) => p.spawnedAt));
  let exited: string | undefined;
  for (const p of procs)
    void p.exited.then(
      (code) => (exited ??= `worker ${p.pid} exited with ${code}: ${p.output().slice(-1500)}`),
    );
  await until(
    () => exited !== undefined || receivedEvents(stack.sim) >= expected,
    Date.now() + deadlineMs,
    100,
  );
  if (exited) throw new Error(exited);
  const cpu = procs.map((p) => cpuSeconds(p.pid) ?? 0);
  // Anything sent twice shows by now.
  await new Promise((r) => setTimeout(r, 1_000));
  const times = receiptTimes(stack.sim);
  const delivered = Math.min(times.length, expected);
  const at = (share: number) => times[Math.min(times.length - 1, Math.floor(share * expected))]!;
  const complete = times.length >= expected;
  const from = at(0.1);
  const to = complete ? at(0.9) : times.at(-1)!;
  const inWindow = complete
    ? Math.floor(0.9 * expected) - Math.floor(0.1 * expected)
    : times.length - Math.floor(0.1 * expected);
  const last = complete ? times[expected - 1]! : Date.now();
  await stack.reset();
  return {
    workers,
    eventsPerSecond: inWindow / Math.max(0.001, (to - from) / 1000),
    spawnToLastEventsPerSecond: delivered / ((last - spawned) / 1000),
    seconds: (last - spawned) / 1000,
    delivered,
    expected,
    complete,
    duplicates: Math.max(0, times.length - expected),
    workerCpuSeconds: cpu,
  };
}

/** The figure as deployed (direct delivery, the default), and with every page through the push queue. */
const MODES = [
  { id: 'fleet-scaleout-ratio', directDelivery: true, what: 'product defaults (direct delivery on)' },
  {
    id: 'fleet-scaleout-ratio-queued',
    directDelivery: false,
    what: 'pipeline.directDelivery: false (every page through the push queue)',
  },
] as const;

export async function runFleetScaleout(ctx: BenchContext, group: string): Promise<void> {
  const { scaleoutEvents, latencyMs, connections, scaleoutRuns, deadlineSeconds } = ctx.sizes.fleet;
  const limits = { isp: { connections }, pipeline: { pushConcurrency: connections } };
  const stack = await startFleetStack({ faults: { latencyMs }, config: limits });
  try {
    const source = await stack.addDatabase(SOURCE.name, SOURCE.codePrefix, {
      visits: Math.round(scaleoutEvents / EVENTS_PER_VISIT),
      lots: 20,
      days: 7,
    });
    const expected = source.seed.entrances + source.seed.departures;
    stack.enable(SOURCE.name);
    for (const mode of MODES) {
      stack.setSharedConfig({
        ...limits,
        pipeline: { ...limits.pipeline, directDelivery: mode.directDelivery },
      });
      const runs: Run[] = [];
      const ones: DrainRun[] = [];
      for (let i = 0; i < scaleoutRuns; i++) {
        const pair: DrainRun[] = [];
        // Alternating which goes first: a machine whose load drifts favours neither.
        for (const workers of i % 2 === 0 ? [1, 2] : [2, 1]) {
          ctx.log(
            `fleet scale-out (${mode.directDelivery ? 'direct delivery' : 'queued'}) run ${i + 1}/${scaleoutRuns}: ` +
              `${workers} worker(s), ${expected.toLocaleString('en')} events, ISP +${latencyMs} ms, ${connections} connections each`,
          );
          const d = await drainWith(stack, workers, expected, deadlineSeconds * 1000);
          ctx.log(
            `  ${Math.round(d.eventsPerSecond)} events/s between 10% and 90% (${Math.round(d.spawnToLastEventsPerSecond)}/s spawn to last, ${d.seconds.toFixed(1)} s)${d.complete ? '' : ' (deadline)'}`,
          );
          pair.push(d);
        }
        const one = pair.find((d) => d.workers === 1)!;
        const two = pair.find((d) => d.workers === 2)!;
        ones.push(one);
        runs.push({
          value: two.eventsPerSecond / one.eventsPerSecond,
          oneWorkerEventsPerSecond: one.eventsPerSecond,
          twoWorkersEventsPerSecond: two.eventsPerSecond,
          spawnToLastRatio: two.spawnToLastEventsPerSecond / one.spawnToLastEventsPerSecond,
          one: { ...one },
          two: { ...two },
        });
      }
      ctx.add(
        makeResult({
          id: mode.id,
          unit: '× (2 workers ÷ 1)',
          runs,
          ceiling: {
            id: '1 worker process, same backlog, limits and settings',
            value: median(ones.map((d) => d.eventsPerSecond)),
            unit: 'events/s',
          },
          ratio: null,
          target: { on: 'value', op: '>=', bound: 1.8, text: '≥ 1.8×' },
          note:
            `${mode.what}. ${expected.toLocaleString('en')} preloaded entrances + departures (one visit-table source, no photos) drained by ` +
            '1 and by 2 child worker processes on the same source and queues, alternately, from an empty Redis state each time; the ' +
            `simulator adds ${latencyMs} ms to every ISP request (fault latencyMs) and each worker has isp.connections = ` +
            `pipeline.pushConcurrency = ${connections}. Rate between the receipts of 10% and 90% of the events; value = the ` +
            '2-process rate ÷ the 1-process rate of the same pair. Spawn-to-last-receipt rates and each process’s CPU seconds in the runs.',
          command: ctx.command(group),
        }),
      );
      const result = ctx.get(mode.id)!;
      result.ratio = result.value;
    }
  } finally {
    await stack.close();
  }
}
