/**
 * Idle polling: a stream whose polls have found nothing new for `idleAfterMs` is polled every
 * `idlePollEveryMs` instead of every `pollEveryMs`, and at its usual interval again from the first
 * poll that finds rows. Most of an idle worker's CPU is the polls themselves (BullMQ's work per job,
 * the vendor query, the bookkeeping), so an idle source costs a fraction of a busy one; the price is
 * that the first event after an idle spell waits up to `idlePollEveryMs` (docs/operations.md).
 *
 * The interval is the poll job scheduler's own `every`, changed on the transition
 * (`upsertJobScheduler`): a poll that is not due is never made, so BullMQ does no work for it. The
 * state is one key per stream in Redis (`found-rows-at`, src/state/stream-progress.ts), shared by
 * every process; the poll queue's global concurrency of 1 means one poll decides at a time.
 */

/** What decides a stream's interval (its `streams.<s>` config). */
export interface IntervalConfig {
  pollEveryMs: number;
  idleAfterMs: number;
  idlePollEveryMs: number;
}

/**
 * The interval a stream should be polled at now (ms): `pollEveryMs`, or `idlePollEveryMs` once its
 * polls have found nothing for `idleAfterMs` (never slower than configured, never faster than
 * `pollEveryMs`). `foundRowsAt` undefined: not known yet, polled at its usual interval.
 */
export function pollIntervalOf(cfg: IntervalConfig, foundRowsAt: number | undefined, nowMs: number): number {
  if (cfg.idleAfterMs <= 0 || foundRowsAt === undefined) return cfg.pollEveryMs;
  return nowMs - foundRowsAt >= cfg.idleAfterMs
    ? Math.max(cfg.pollEveryMs, cfg.idlePollEveryMs)
    : cfg.pollEveryMs;
}

/** The longest a stream's polls may be apart when all is well (its idle interval when it may go idle). */
export function slowestPollEveryMs(cfg: IntervalConfig): number {
  return cfg.idleAfterMs > 0 ? Math.max(cfg.pollEveryMs, cfg.idlePollEveryMs) : cfg.pollEveryMs;
}

export interface IdlePollingDeps {
  cfg: IntervalConfig;
  /** The interval the running poll job was scheduled at (undefined: not made by the scheduler). */
  scheduledEvery: number | undefined;
  /** Whether this poll found rows (event streams) or lot changes (lot streams). */
  found: boolean;
  nowMs: number;
  foundRowsAt(): Promise<number | undefined>;
  setFoundRows(atMs: number): Promise<void>;
  /** Changes the stream's poll job scheduler to poll every `everyMs`. */
  reschedule(everyMs: number): Promise<void>;
}

/**
 * After a poll: notes whether it found rows, and moves the stream's scheduler to the interval it
 * should have (one Redis read per poll that found nothing, one write per poll that found rows, an
 * upsert only on a transition). Returns the interval it should have.
 */
export async function keepPollInterval(deps: IdlePollingDeps): Promise<number> {
  let foundAt: number | undefined;
  if (deps.found) {
    foundAt = deps.nowMs;
    await deps.setFoundRows(foundAt);
  } else {
    foundAt = await deps.foundRowsAt();
    if (foundAt === undefined) {
      // The first poll noted: the idle spell counts from here (a fresh start polls at the usual
      // interval for `idleAfterMs` first).
      foundAt = deps.nowMs;
      await deps.setFoundRows(foundAt);
    }
  }
  const want = pollIntervalOf(deps.cfg, foundAt, deps.nowMs);
  if (deps.scheduledEvery !== undefined && deps.scheduledEvery !== want) await deps.reschedule(want);
  return want;
}
