/**
 * Direct delivery: a poll whose push queue is empty sends its page's batches to ISP itself, and
 * hands the queue only what it could not deliver. Carrying every record through a BullMQ job
 * (serialize, store, fetch, parse, settle) cost about as much CPU as everything else the worker
 * does; when ISP keeps up, the queue is pure overhead. When it does not, the failed batch and
 * everything after it go to the queue with their usual job ids, where retries, backoff, outage
 * pauses and bisection take over, and the poll goes on enqueueing behind them until the queue has
 * drained again.
 *
 * Nothing changes for crash safety: the checkpoint still moves only after the page is delivered or
 * enqueued, and the ledger skips what a re-read finds delivered.
 */

export interface DirectDeliveryResult<J> {
  /** Jobs to enqueue: the failed ones and those never started, in their original order. */
  handOff: J[];
  /** The first failure (undefined: everything was delivered). */
  error?: unknown;
}

/**
 * Delivers `jobs` with at most `concurrency` at once. After the first failure no new job starts;
 * the ones already under way finish (a delivered one needs no hand-off).
 */
export async function deliverDirect<J>(
  jobs: readonly J[],
  deliver: (job: J) => Promise<unknown>,
  concurrency: number,
): Promise<DirectDeliveryResult<J>> {
  const done = new Array<boolean>(jobs.length).fill(false);
  let next = 0;
  let error: unknown;
  let failed = false;
  const lane = async () => {
    while (!failed && next < jobs.length) {
      const i = next++;
      try {
        await deliver(jobs[i]!);
        done[i] = true;
      } catch (e) {
        if (!failed) error = e;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, jobs.length)) }, lane));
  const handOff = jobs.filter((_, i) => !done[i]);
  return failed ? { handOff, error } : { handOff };
}
