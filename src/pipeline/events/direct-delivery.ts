/**
 * Direct delivery: a poll whose push queue is empty sends its page's batches to ISP itself, and
 * hands the queue only what it could not deliver. Carrying every record through a BullMQ job
 * (serialize, store, fetch, parse, settle) cost about as much CPU as everything else the worker
 * does; when ISP keeps up, the queue is pure overhead. When it does not, the failed batch and
 * everything after it go to the queue with their usual job ids, where retries, backoff, outage
 * pauses and splits take over, and the poll goes on enqueueing behind them until the queue has
 * drained again.
 *
 * A backlog is shared instead: polls run one at a time per stream across every process, so the
 * process holding a stream's poll would deliver its whole backlog through its own connections
 * while the pushers of the others waited for jobs that never came (measured: two processes drained
 * a backlog 1.23× as fast as one behind a slow ISP, 2.04× through the queue). A full page (the poll
 * is behind) goes to the queue when other processes push from it; a short page (the poll caught
 * up: live traffic) and any page of a process alone still go directly.
 *
 * Nothing changes for crash safety: the checkpoint still moves only after the page is delivered or
 * enqueued, and the ledger skips what a re-read finds delivered.
 */

/** What a poll knows when it hands on a page. */
export interface HandOnFacts {
  /** The push queue was empty at the last look, and nothing has been handed to it since. */
  queueEmpty: boolean;
  /** The page was full: more rows wait behind it (a backlog), not the tail of live traffic. */
  pageFull: boolean;
  /** Pusher workers of other processes on this stream's push queue. */
  otherPushers: number;
}

/** Whether a page goes to ISP from the poll itself or through the push queue. */
export function handOnBy(facts: HandOnFacts): 'direct' | 'queue' {
  if (!facts.queueEmpty) return 'queue';
  return facts.pageFull && facts.otherPushers > 0 ? 'queue' : 'direct';
}

export interface DirectDeliveryResult<J> {
  /** Jobs to enqueue: the failed ones and those never started, in their original order. */
  handOff: J[];
  /** The first failure (undefined: everything was delivered). */
  error?: unknown;
  /** The jobs that failed, with their errors (the others in `handOff` were not started). */
  failures: Map<J, unknown>;
}

/**
 * Batches in flight at once, shared by the pages a poll hands on together (two may overlap): the
 * bound on what a SIGKILL can leave delivered but unrecorded. Started in the order asked (FIFO).
 */
export class Lanes {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = Math.max(1, size);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/**
 * Delivers `jobs` through `lanes`. After the first failure no new job starts; the ones already
 * under way finish (a delivered one needs no hand-off).
 */
export async function deliverDirect<J>(
  jobs: readonly J[],
  deliver: (job: J) => Promise<unknown>,
  lanes: Lanes,
): Promise<DirectDeliveryResult<J>> {
  const done = new Array<boolean>(jobs.length).fill(false);
  const failures = new Map<J, unknown>();
  let error: unknown;
  let failed = false;
  await Promise.all(
    jobs.map((job, i) =>
      lanes.run(async () => {
        if (failed) return;
        try {
          await deliver(job);
          done[i] = true;
        } catch (e) {
          if (!failed) error = e;
          failed = true;
          failures.set(job, e);
        }
      }),
    ),
  );
  const handOff = jobs.filter((_, i) => !done[i]);
  return failed ? { handOff, error, failures } : { handOff, failures };
}
