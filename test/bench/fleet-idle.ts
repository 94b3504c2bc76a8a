/**
 * `fleet-idle-cpu`: what a worker process costs while nothing happens. One child worker runs 20
 * sources (20 small visit-table databases, a few lots each, no traffic); beside it, at the same time
 * and on the same machine, a second worker runs 1 such source (its own simulator and Redis prefix),
 * the ceiling. Once every source's history has been delivered and start-up has settled, each
 * worker's CPU (user + system, /proc/<pid>/stat) is counted over the same window and given as % of
 * one core. What such a worker still does: every source's polls (counts and both event streams every
 * second, lots every minute) and its BullMQ workers' timers.
 */
import { loadConfig } from '../../src/config/index.js';
import type { BenchContext } from './lib/context.js';
import { cpuSeconds, pidsNamed, startCpuWindow } from './lib/cpu.js';
import { type FleetStack, receivedEvents, startFleetStack } from './lib/fleet-stack.js';
import { makeResult, type Run } from './lib/report.js';
import { until } from './lib/stack.js';
import type { WorkerProcess } from './lib/worker-process.js';

const SEED = { lots: 3, visits: 20, days: 1 };

/** Sources `idle01`…, each database with lot codes of its own (`I01-ATXL/1`, …). */
async function addSources(stack: FleetStack, count: number, tag: string): Promise<number> {
  const names = Array.from({ length: count }, (_, i) => String(i + 1).padStart(2, '0'));
  let events = 0;
  // A few at a time: seeding is mostly waiting on MariaDB.
  for (let i = 0; i < names.length; i += 4) {
    const made = await Promise.all(
      names.slice(i, i + 4).map((n) => stack.addDatabase(`idle${n}`, `${tag}${n}-`, SEED)),
    );
    for (const s of made) {
      events += s.seed.entrances + s.seed.departures;
      stack.enable(s.name);
    }
  }
  return events;
}

async function settled(
  stack: FleetStack,
  worker: WorkerProcess,
  expected: number,
  lots: number,
): Promise<void> {
  let exited = false;
  void worker.exited.then(() => {
    exited = true;
  });
  const ok = await until(
    () =>
      exited || (receivedEvents(stack.sim) >= expected && stack.sim.state.stats().lots.registered >= lots),
    Date.now() + 120_000,
    250,
  );
  if (exited || !ok)
    throw new Error(
      `${worker.label}: start-up did not settle (${receivedEvents(stack.sim)}/${expected} events): ${worker.output().slice(-1500)}`,
    );
}

export async function runFleetIdle(ctx: BenchContext, group: string): Promise<void> {
  const { idleSources, idleSeconds, settleSeconds } = ctx.sizes.fleet;
  const many = await startFleetStack();
  try {
    const one = await startFleetStack();
    try {
      ctx.log(
        `fleet idle: ${idleSources} sources in one worker, 1 in another, ${idleSeconds} s after start-up`,
      );
      const manyEvents = await addSources(many, idleSources, 'I');
      const oneEvents = await addSources(one, 1, 'J');
      const manyWorker = many.startWorker({ label: `fleet idle ${idleSources} sources` });
      const oneWorker = one.startWorker({ label: 'fleet idle 1 source' });
      const spawned = Date.now();
      await Promise.all([
        settled(many, manyWorker, manyEvents, idleSources * SEED.lots),
        settled(one, oneWorker, oneEvents, SEED.lots),
      ]);
      const startupSeconds = (Date.now() - spawned) / 1000;
      // A full run measures idle as it stays: every stream past idleAfterMs and polled at its idle
      // interval (product defaults). A quick run (the CI smoke) measures right after start-up.
      const defaults = loadConfig({ env: {} }).streams.entrances;
      const idleWaitSeconds =
        ctx.mode === 'full' ? (defaults.idleAfterMs + defaults.idlePollEveryMs) / 1000 : 0;
      await new Promise((r) => setTimeout(r, (settleSeconds + idleWaitSeconds) * 1000));
      const startupCpu = {
        many: cpuSeconds(manyWorker.pid) ?? 0,
        one: cpuSeconds(oneWorker.pid) ?? 0,
      };
      const window = startCpuWindow({
        [`${idleSources} sources`]: [manyWorker.pid],
        '1 source': [oneWorker.pid],
        'bench+simulators': [process.pid],
        mariadb: pidsNamed('mariadbd'),
        redis: pidsNamed('redis-server'),
      });
      const windowFrom = Date.now();
      await new Promise((r) => setTimeout(r, idleSeconds * 1000));
      const cpu = window.stop();
      // --profile: the summaries cover this window only, not start-up or shutdown.
      for (const w of [manyWorker, oneWorker]) w.profileWindow = { from: windowFrom, to: Date.now() };
      const manyPercent = (cpu.cores[`${idleSources} sources`] ?? 0) * 100;
      const onePercent = (cpu.cores['1 source'] ?? 0) * 100;
      // How long each takes to stop (SIGTERM to exit): every source's workers and connections closed.
      const stopped = await Promise.all(
        [manyWorker, oneWorker].map(async (w) => {
          const t = Date.now();
          await w.stop(60_000);
          return (Date.now() - t) / 1000;
        }),
      );
      const detail = {
        sources: idleSources,
        shutdownSeconds: { many: stopped[0], one: stopped[1] },
        onePercent,
        perSourcePercent: manyPercent / idleSources,
        windowSeconds: cpu.wallSeconds,
        startupSeconds,
        startupCpuSeconds: startupCpu,
        coresBusy: cpu.cores,
        workerRssMb: { many: manyWorker.peakRssMb(), one: oneWorker.peakRssMb() },
        sentDuringWindow: {
          many: receivedEvents(many.sim) - manyEvents,
          one: receivedEvents(one.sim) - oneEvents,
        },
      };
      ctx.log(
        `  ${idleSources} sources: ${manyPercent.toFixed(2)}% of a core; 1 source: ${onePercent.toFixed(2)}% ` +
          `(start-up ${startupSeconds.toFixed(1)} s, shutdown ${stopped[0]!.toFixed(1)} s and ${stopped[1]!.toFixed(1)} s; MariaDB ${((cpu.cores.mariadb ?? 0) * 100).toFixed(1)}%, ` +
          `Redis ${((cpu.cores.redis ?? 0) * 100).toFixed(1)}% for both)`,
      );
      const runs: Run[] = [{ value: manyPercent, ...detail }];
      ctx.add(
        makeResult({
          id: 'fleet-idle-cpu',
          unit: '% of one core',
          runs,
          ceiling: {
            id: 'the same worker with 1 source, same window',
            value: onePercent,
            unit: '% of one core',
          },
          target: { on: 'value', op: '<', bound: 5, text: `< 5% of one core with ${idleSources} sources` },
          note:
            `One child worker (\`start\`, product defaults) running ${idleSources} sources (a sources folder; ${idleSources} visit-table databases of ` +
            `${SEED.lots} lots and ${SEED.visits} visits each, no traffic) and, at the same time, another running 1 such source (its own ` +
            `simulator and Redis prefix). Every source's history delivered, then ${settleSeconds + idleWaitSeconds} s` +
            (idleWaitSeconds > 0
              ? ' (past idleAfterMs and one idle interval: every stream polled at its idle interval)'
              : '') +
            `, then each worker's CPU ` +
            `(user + system, /proc/<pid>/stat) over ${idleSeconds} s as % of one core; ratio = ${idleSources} sources ÷ 1. ` +
            'CPU of MariaDB, Redis and the bench (both workers together) in the runs.',
          command: ctx.command(group),
        }),
      );
    } finally {
      await one.close();
    }
  } finally {
    await many.close();
  }
}
