/**
 * Starts worker processes on a stack and times how long the simulator takes to hold every expected
 * entrance and departure. The end time is the receipt time the simulator recorded for the last
 * record (not when this process noticed). Gives up at a deadline and reports what arrived by then,
 * so a slow run costs bounded time and still yields an honest (partial) rate.
 */
import { type CpuShare, pidsNamed, startCpuWindow } from './cpu.js';
import type { Stack } from './stack.js';
import type { WorkerProcess } from './worker-process.js';

export interface DrainResult {
  expected: number;
  delivered: number;
  /** From the first worker's spawn to the last expected record's receipt (or the deadline). */
  seconds: number;
  eventsPerSecond: number;
  complete: boolean;
  /** Seconds from spawn to the first record's receipt (process start, first poll). */
  firstReceiptSeconds: number | null;
  /** Records beyond the expected count a second after completion (would be duplicates). */
  extra: number;
  peakRssMb: number;
  /** CPU per process group (worker(s), this bench process with the simulator, MariaDB, Redis). */
  cpu: CpuShare;
  workers: WorkerProcess[];
}

export function receivedEvents(stack: Stack): number {
  const store = stack.sim.state.store;
  return store.count('entrance') + store.count('departure');
}

function lastReceipt(stack: Stack): number {
  const store = stack.sim.state.store;
  let last = 0;
  for (const kind of ['entrance', 'departure'] as const) {
    const n = store.count(kind);
    const entry = n ? store.list(kind, n - 1, 1)[0] : undefined;
    if (entry && entry.receivedAt > last) last = entry.receivedAt;
  }
  return last;
}

function firstReceipt(stack: Stack): number | null {
  const store = stack.sim.state.store;
  const times = (['entrance', 'departure'] as const)
    .map((kind) => store.list(kind, 0, 1)[0]?.receivedAt)
    .filter((t): t is number => t !== undefined);
  return times.length ? Math.min(...times) : null;
}

export async function drain(
  stack: Stack,
  expected: number,
  options: {
    workers?: number;
    deadlineMs: number;
    startedWorkers?: WorkerProcess[];
    from?: number;
    label?: string;
  },
): Promise<DrainResult> {
  const workers =
    options.startedWorkers ??
    Array.from({ length: options.workers ?? 1 }, () =>
      stack.startWorker(options.label ? { label: options.label } : {}),
    );
  const from = options.from ?? Math.min(...workers.map((w) => w.spawnedAt));
  const cpu = startCpuWindow({
    worker: workers.map((w) => w.pid),
    'bench+simulator': [process.pid],
    mariadb: pidsNamed('mariadbd'),
    redis: pidsNamed('redis-server'),
  });
  const deadline = Date.now() + options.deadlineMs;
  let exitedEarly: string | undefined;
  for (const w of workers) {
    void w.exited.then((code) => {
      exitedEarly ??= `worker ${w.pid} exited with ${code}: ${w.output().slice(-1500)}`;
    });
  }
  while (receivedEvents(stack) < expected && Date.now() < deadline && !exitedEarly) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (exitedEarly) throw new Error(exitedEarly);
  const delivered = receivedEvents(stack);
  const complete = delivered >= expected;
  const end = complete ? lastReceipt(stack) : Date.now();
  const cpuShare = cpu.stop();
  const seconds = (end - from) / 1000;
  const first = firstReceipt(stack);
  if (complete) await new Promise((r) => setTimeout(r, 1_000));
  return {
    expected,
    delivered: Math.min(delivered, expected),
    seconds,
    eventsPerSecond: Math.min(delivered, expected) / seconds,
    complete,
    firstReceiptSeconds: first === null ? null : (first - from) / 1000,
    extra: Math.max(0, receivedEvents(stack) - expected),
    peakRssMb: Math.max(...workers.map((w) => w.peakRssMb())),
    cpu: cpuShare,
    workers,
  };
}
