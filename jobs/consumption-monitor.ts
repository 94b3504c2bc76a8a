/**
 * Liveness that means "jobs are actually consumed", not "Redis answers PING": bullmq 6 has had
 * workers that silently stop taking jobs after a Redis outage. A worker is unhealthy when it is not
 * running, or when its queue has a job that has waited past a threshold while this worker finished
 * nothing in that time. Delayed jobs (ISP backoff) do not count: an ISP outage is not a dead worker;
 * it shows on /readyz and the status page.
 */
import type { Queue, Worker } from 'bullmq';

export interface WorkerHealth {
  queue: string;
  running: boolean;
  lastFinishedAt: number | null;
  oldestWaitingAgeSeconds: number | null;
}

export class ConsumptionMonitor {
  private readonly lastFinished = new Map<Worker, number>();
  private readonly startedAt = Date.now();
  stopping = false;

  constructor(private readonly entries: Array<{ worker: Worker; queue: Queue; thresholdMs: number }>) {
    for (const { worker } of entries) {
      const mark = () => this.lastFinished.set(worker, Date.now());
      worker.on('completed', mark);
      worker.on('failed', mark);
    }
  }

  async check(now = Date.now()): Promise<{ ok: boolean; details: Record<string, unknown> }> {
    let ok = true;
    const workers: WorkerHealth[] = [];
    for (const { worker, queue, thresholdMs } of this.entries) {
      const running = worker.isRunning();
      const last = this.lastFinished.get(worker) ?? null;
      const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
      const waitingSince = oldest ? oldest.timestamp + (oldest.opts.delay ?? 0) : null;
      const age = waitingSince === null ? null : Math.max(0, now - waitingSince);
      const idleFor = now - (last ?? this.startedAt);
      const stuck = age !== null && age > thresholdMs && idleFor > thresholdMs;
      if ((!running && !this.stopping) || stuck) ok = false;
      workers.push({
        queue: worker.name,
        running,
        lastFinishedAt: last === null ? null : Math.floor(last / 1000),
        oldestWaitingAgeSeconds: age === null ? null : Math.round(age / 1000),
      });
    }
    return { ok, details: { workers, stopping: this.stopping } };
  }
}
