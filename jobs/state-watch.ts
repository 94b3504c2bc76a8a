/**
 * Keeps watch over what the worker needs in Redis and Redis may lose while the worker runs: the
 * state marker (a loss stops polling, src/pipeline/state-guard.ts), and, in a process with the
 * scheduler role, the job schedulers and the poll queues' global concurrency, which it re-creates
 * when they are gone (a failover, a flush, a scheduler deleted by hand) so polling never stops
 * silently. Runs every `pipeline.stateCheckEveryMs` and whenever the Redis connection is ready
 * again after a break.
 */
import type { Logger } from '../src/log.js';
import type { Runtime } from '../src/pipeline/runtime.js';
import { ensureSchedules } from '../src/pipeline/schedules.js';
import type { StateGuard, StateVerdict } from '../src/pipeline/state-guard.js';

export interface WatchReport {
  /** Epoch ms of the last completed check. */
  checkedAt: number | null;
  state: StateVerdict | undefined;
  /** What the last check re-created (`queue/scheduler`, `queue global concurrency`). */
  recreated: string[];
  /** The last check's error (Redis unreachable, ...). */
  error: string | null;
}

export class StateWatch {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly report: WatchReport = { checkedAt: null, state: undefined, recreated: [], error: null };
  private readonly onReady = () => void this.checkNow();

  constructor(
    private readonly rt: Pick<Runtime, 'config' | 'redis' | 'queues'>,
    private readonly guard: StateGuard,
    private readonly options: { scheduler: boolean; logger: Logger; everyMs: number },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.checkNow(), this.options.everyMs);
    this.timer.unref();
    this.rt.redis.on('ready', this.onReady);
  }

  stop(): void {
    clearInterval(this.timer);
    this.rt.redis.off('ready', this.onReady);
  }

  get last(): WatchReport {
    return this.report;
  }

  /** One check now (a check already running is joined, not doubled). */
  checkNow(): Promise<void> {
    this.running ??= this.check().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async check(): Promise<void> {
    const { logger } = this.options;
    try {
      const state = await this.guard.check();
      let recreated: string[] = [];
      // While the state is lost nothing is put back: polls would do nothing, and the operator's
      // `resume` re-creates the schedulers itself.
      if (state.ok && this.options.scheduler) {
        recreated = await ensureSchedules(this.rt.config, this.rt.queues);
        if (recreated.length)
          logger.warn(
            { recreated },
            'job schedulers or poll concurrency were missing from Redis (deleted, or Redis lost them): re-created',
          );
      }
      Object.assign(this.report, { checkedAt: Date.now(), state, recreated, error: null });
    } catch (error) {
      this.report.error = (error as Error).message;
    }
  }
}
