/**
 * Liveness that means "jobs are actually consumed", not "Redis answers PING": bullmq 6 has had
 * workers that silently stop taking jobs after a Redis outage, and a worker whose fetch loop waits
 * on a connection that never comes back takes none either (a poll's next run then stays in the
 * delayed set, past due). A worker is unhealthy when it is not running, or when its queue has a job
 * that has waited past a threshold while this worker finished nothing in that time: a waiting job,
 * or a delayed one past its due time (a worker taking jobs moves a due one on at once, in any
 * process). A delayed job not yet due (ISP backoff, a poll's next run) does not count, nor does a
 * queue rate-limited on purpose (the pause a push queue takes while ISP is down): an ISP outage is
 * not a dead worker; it shows on /readyz and the status page.
 */
import type { Queue, Worker } from 'bullmq';

export interface WorkerHealth {
  queue: string;
  running: boolean;
  lastFinishedAt: number | null;
  oldestWaitingAgeSeconds: number | null;
  /** The queue pauses on purpose (a push queue while ISP is down): its waiting jobs do not count. */
  rateLimited: boolean;
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
      const [[oldest], [nextDelayed], limitedMs] = await Promise.all([
        queue.getJobs(['wait'], 0, 0, true),
        queue.getJobs(['delayed'], 0, 0, true),
        queue.getRateLimitTtl(),
      ]);
      const since = [
        oldest ? oldest.timestamp + (oldest.opts.delay ?? 0) : null,
        nextDelayed ? nextDelayed.timestamp + nextDelayed.delay : null,
      ].filter((t): t is number => t !== null && t <= now);
      const age = since.length ? now - Math.min(...since) : null;
      const idleFor = now - (last ?? this.startedAt);
      const rateLimited = limitedMs > 0;
      const stuck = !rateLimited && age !== null && age > thresholdMs && idleFor > thresholdMs;
      if ((!running && !this.stopping) || stuck) ok = false;
      workers.push({
        queue: worker.name,
        running,
        lastFinishedAt: last === null ? null : Math.floor(last / 1000),
        oldestWaitingAgeSeconds: age === null ? null : Math.round(age / 1000),
        rateLimited,
      });
    }
    return { ok, details: { workers, stopping: this.stopping } };
  }
}
