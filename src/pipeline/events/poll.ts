/**
 * One poll of an event stream (entrances or departures): read pages after the checkpoint, turn rows
 * into push jobs, quarantine what cannot be sent, and only then advance the checkpoint. Stops when
 * the stream is caught up, when the push queue is deeper than its bound (backpressure), or when
 * its time budget is spent, so one poll never holds the stream's singleton slot for long.
 *
 * I/O is passed in; the BullMQ job (jobs/poll.ts) and the dry-run command wire it.
 */
import type { Cursor } from '../../config/vendor-rows.js';
import type { EventStreamName } from '../streams.js';
import { jobsOfPage, type PageRead, type PageRow, type PushJobSpec, recordsOfPage } from './page.js';
import type { EventRecord, Precedent, RowOutcome } from './records.js';

export interface PollEventsDeps<Row extends PageRow> {
  stream: EventStreamName;
  pageSize: number;
  maxItemsPerJob: number;
  maxQueueDepth: number;
  budgetMs: number;
  getCheckpoint(): Promise<Cursor | null>;
  setCheckpoint(cursor: Cursor): Promise<void>;
  /** The DB's now minus the commit lag, Unix seconds, read before the page (a safe lower bound). */
  readBound(): Promise<number>;
  /**
   * Exclusive upper bound on the cursor time, Unix seconds (departures: the entrance watermark).
   * 0 (`GATE_NOT_STARTED`): the other stream has read nothing yet.
   */
  gateUpTo?(): Promise<number | undefined>;
  /**
   * How long a poll held back by the gate waits for it to move before it ends (default 0). The
   * gate moves when the other stream's jobs settle, usually within milliseconds; without the wait
   * the held-back rows would sit until the next scheduled poll, a whole interval later.
   */
  gateWaitMs?: number;
  /**
   * What held the gate at its last reading (departure-gate.ts `gateOf`): a poll waiting for the
   * gate looks often while jobs in flight hold it, but only when the followed stream's next poll
   * is due while only that stream's read does. Undefined: looked at every GATE_CHECK_MS.
   */
  gateHold?(): GateHold | undefined;
  readPage(after: Cursor | null, limit: number, upTo: number | undefined): Promise<PageRead<Row>>;
  /**
   * Low-latency mode: remembers the rows handed on, before they are (the sweep behind the poll
   * hands on only rows the poll never read). A row held back by `mayGo` is not marked.
   */
  markRead?(rows: Row[]): Promise<void>;
  /**
   * Low-latency follower (departures): which records may go now, their precedent (entrance)
   * being settled (departure-gate.ts `mayGoNow`). The others wait in the poll, looked at again
   * every DEFER_CHECK_MS (reading on meanwhile) up to `deferWaitMs`; what still waits then is
   * left to the sweep.
   */
  mayGo?(records: EventRecord[], precedents: Array<Precedent | undefined>): Promise<boolean[]>;
  deferWaitMs?: number;
  transform(row: Row): RowOutcome;
  /** Unix seconds of a cursor time (to report how far the stream has read). */
  cursorEpoch(cursor: Cursor): number | undefined;
  quarantine(row: Row, reasons: Array<{ code: string; message: string }>): Promise<void>;
  /**
   * Hands on a page's jobs. `page.full`: the page was full, so more rows wait behind it (a backlog);
   * absent, a short page (held-back records released, the sweep's late rows). Direct delivery
   * shares a backlog with other processes' pushers by it (direct-delivery.ts `handOnBy`).
   */
  enqueue(jobs: PushJobSpec[], page?: { full: boolean }): Promise<void>;
  queueDepth(): Promise<number>;
  /** Everything before this time (Unix s) has been read and handed on. */
  setCaughtUp(epoch: number): Promise<void>;
  now?(): number;
  sleep?(ms: number): Promise<void>;
}

/** How often a poll waiting for its gate looks at it again. */
export const GATE_CHECK_MS = 25;
/**
 * Within this many seconds of the poll's own bound, the other stream is keeping up and only its
 * batches in flight hold this one back: the poll looks every GATE_CHECK_MS and reads as soon as the
 * gate moves. Further behind (a backlog), it looks every GATE_BACKLOG_CHECK_MS, so the gate has
 * moved by a few of the other stream's pages when it reads (reading at every small step would cut
 * the backlog into small jobs). Either way it waits rather than ending: ending left the rows
 * until the next scheduled poll, a whole interval later (measured: departures idle for a second
 * of a 7.7 s drain of 500k events at every start, then a departure-only tail at the end).
 */
export const GATE_WAIT_WITHIN_S = 10;
export const GATE_BACKLOG_CHECK_MS = 100;
/**
 * How often a low-latency follower looks again at the records it holds back (and reads on): each
 * look is a keyset read of what came meanwhile, so this bounds the statements a waiting poll runs.
 */
export const DEFER_CHECK_MS = 100;
/**
 * What holds a gate back: `jobs` of the followed stream in flight (they settle within moments), or
 * only the followed stream's `read`, which moves when its next poll ends, expected at `nextAtMs`
 * (undefined: not known), its polls `everyMs` apart.
 */
export type GateHold = { by: 'jobs' } | { by: 'read'; everyMs: number; nextAtMs?: number };

/** The gate of a stream whose other stream has read nothing yet. */
export const GATE_NOT_STARTED = 0;

export interface PollResult {
  rows: number;
  enqueued: number;
  quarantined: number;
  pages: number;
  stoppedBy: 'caught-up' | 'backpressure' | 'budget' | 'gate';
  /** Low-latency followers: records still held back when the poll ended (the sweep hands them on). */
  leftToSweep?: number;
}

export async function pollEvents<Row extends PageRow>(deps: PollEventsDeps<Row>): Promise<PollResult> {
  const now = deps.now ?? Date.now;
  const started = now();
  const result: PollResult = { rows: 0, enqueued: 0, quarantined: 0, pages: 0, stoppedBy: 'caught-up' };
  const read = async (after: Cursor | null): Promise<Read<Row>> => {
    const bound = await deps.readBound();
    const gate = deps.gateUpTo ? await deps.gateUpTo() : undefined;
    return { after, bound, gate, page: await deps.readPage(after, deps.pageSize, gate) };
  };
  // The next page, read while this one is transformed and handed on (a direct delivery takes
  // about as long as the read). Its bound and gate are read earlier than they would be after this
  // page: staler, so never further than the rules allow.
  let ahead: Promise<Read<Row>> | undefined;
  // The previous page's hand-on and bookkeeping, still under way while this page is handed on:
  // the tail of one page's batches overlaps the head of the next one's. Checkpoints still move in
  // page order, each only after its own page and every page before it.
  let handing: Promise<void> | undefined;
  // Low-latency followers: records read but held back until their precedent is settled.
  let waiting: Waiting<Row>[] = [];
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  /** Hands on the held-back records that may go now (their rows are marked first). */
  const release = async () => {
    const flags = await deps.mayGo!(
      waiting.map((w) => w.record),
      waiting.map((w) => w.precedent),
    );
    const going = waiting.filter((_, i) => flags[i]);
    waiting = waiting.filter((_, i) => !flags[i]);
    if (going.length === 0) return;
    const rows = going.map((w) => w.row);
    await deps.markRead?.(rows);
    const jobs = jobsOfPage(
      deps.stream,
      'poll',
      rows,
      going.map((w) => w.record),
      deps.maxItemsPerJob,
    );
    await deps.enqueue(jobs, { full: false });
  };
  try {
    for (;;) {
      if ((await deps.queueDepth()) > deps.maxQueueDepth) {
        await handing;
        result.stoppedBy = 'backpressure';
        return result;
      }
      const { after, bound, gate, page } = await (ahead ?? read(await deps.getCheckpoint()));
      ahead = undefined;
      result.pages++;
      result.rows += page.rows.length;
      if (page.full && page.last && now() - started < deps.budgetMs) {
        ahead = read(page.last);
        // Awaited on the next turn; a failure of this page's hand-on must not leave it unhandled.
        ahead.catch(() => undefined);
      }

      const paged = recordsOfPage(page.rows, deps.transform);
      const { rejected } = paged;
      let { records } = paged;
      for (const { row, reasons } of rejected) await deps.quarantine(row, reasons);
      result.quarantined += rejected.length;
      let marked: Row[] = page.rows;
      if (deps.mayGo && records.length > 0) {
        const flags = await deps.mayGo(records, paged.precedents);
        const held = new Set<Row>();
        for (let i = 0; i < records.length; i++) {
          if (flags[i]) continue;
          held.add(paged.rowsOf[i]!);
          waiting.push({ row: paged.rowsOf[i]!, record: records[i]!, precedent: paged.precedents[i] });
        }
        if (held.size > 0) {
          records = records.filter((_, i) => flags[i]);
          marked = page.rows.filter((row) => !held.has(row));
        }
      }
      const jobs = jobsOfPage(deps.stream, 'poll', page.rows, records, deps.maxItemsPerJob);
      result.enqueued += records.length;
      // A short page has read everything before its bound; rows up to the checkpoint were read
      // before (a checkpoint set ahead by an operator can be past the bound).
      const readUpTo =
        page.full && page.last
          ? deps.cursorEpoch(page.last)
          : Math.max(Math.min(bound, gate ?? Infinity), (after && deps.cursorEpoch(after)) ?? -Infinity);
      const full = page.full;
      const previous = handing;
      // Only the cursor outlives the transform: the page's rows are garbage from here on (a
      // closure over `page` kept every row of the two pages in hand alive through their delivery,
      // and young-generation GC copies whatever is alive).
      const last = page.last;
      const markRead = deps.markRead;
      handing = (async () => {
        // Marked before the hand-on: a poll that dies in between has not moved its checkpoint
        // and reads them again.
        if (markRead && marked.length) await markRead(marked);
        if (jobs.length) await deps.enqueue(jobs, { full });
        await previous;
        if (last) await deps.setCheckpoint(last);
        if (readUpTo !== undefined && Number.isFinite(readUpTo)) await deps.setCaughtUp(readUpTo);
      })();
      handing.catch(() => undefined);

      if (!full) {
        await handing;
        if (waiting.length > 0) {
          if (now() + DEFER_CHECK_MS <= started + (deps.deferWaitMs ?? 0)) {
            await sleep(DEFER_CHECK_MS);
            await release();
            // Reads on meanwhile: the poll ends at a short page with nothing held back.
            continue;
          }
          result.leftToSweep = waiting.length;
          waiting = [];
        }
        const gated = gate !== undefined && gate < bound;
        if (gated) {
          const every = bound - gate <= GATE_WAIT_WITHIN_S ? GATE_CHECK_MS : GATE_BACKLOG_CHECK_MS;
          if (await gateMoved(deps, gate, started + (deps.gateWaitMs ?? 0), every)) continue;
        }
        result.stoppedBy = gated ? 'gate' : 'caught-up';
        return result;
      }
      // A full page read ahead is always handed on: reading it was the cost.
      if (!ahead) {
        await handing;
        if (waiting.length > 0) {
          await release();
          result.leftToSweep = waiting.length;
        }
        result.stoppedBy = 'budget';
        return result;
      }
      // At most two pages in hand at once: the one before this must be done before the next.
      await previous;
    }
  } finally {
    // Only a backpressure stop or a failure leaves a page read ahead unused. A failure leaves no
    // hand-on running behind the poll either: the next poll must not overlap this one.
    ahead?.catch(() => undefined);
    await handing?.catch(() => undefined);
  }
}

interface Waiting<Row> {
  row: Row;
  record: EventRecord;
  precedent: Precedent | undefined;
}

interface Read<Row> {
  after: Cursor | null;
  bound: number;
  gate: number | undefined;
  page: PageRead<Row>;
}

/**
 * Waits until the gate is past `gate` (true) or `until` (epoch ms) has come (false), looking `every`
 * ms. While only the followed stream's read holds the gate, nothing moves it before that stream's
 * next poll: the wait sleeps until then, and ends at once when that poll is not due before `until`
 * (the followed stream idle, src/pipeline/poll-interval.ts) or is long overdue (its polls failing,
 * or no process polling it): looking meanwhile gained nothing and cost five Redis round trips a
 * look, most of an idle worker's CPU (measured: 30% of it with 20 idle sources).
 */
async function gateMoved<Row extends PageRow>(
  deps: PollEventsDeps<Row>,
  gate: number,
  until: number,
  every: number,
): Promise<boolean> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (;;) {
    const wait = gateLookIn(deps.gateHold?.(), now(), every);
    if (wait === undefined || now() + wait > until) return false;
    await sleep(wait);
    const moved = await deps.gateUpTo!();
    if (moved !== undefined && moved > gate) return true;
  }
}

/** How long to sleep before the gate's next look (ms); undefined: it will not move soon, stop waiting. */
export function gateLookIn(hold: GateHold | undefined, nowMs: number, every: number): number | undefined {
  if (hold?.by !== 'read' || hold.nextAtMs === undefined) return every;
  if (nowMs > hold.nextAtMs + hold.everyMs) return undefined;
  return Math.max(every, hold.nextAtMs - nowMs);
}
