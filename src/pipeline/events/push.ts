/**
 * Delivers one push job of entrances or departures: skips what the ledger says ISP already has,
 * attaches photos a few records at a time (fetched and encoded now, never stored in Redis), sends
 * batches within the count and byte limits, records each delivered batch in the ledger at once,
 * and, for a batch ISP keeps rejecting, bisects until the rejected records are alone.
 *
 * I/O is passed in (`PushEventsDeps`), so the rules here are tested without BullMQ.
 */
import type { LedgerEntry } from '../../state/ledger.js';
import { IspAuthError, IspRejectedError, IspUnavailableError } from '../errors.js';

export interface EventRecord {
  /** Ledger key: the natural key (src/isp-spec/natural-keys.ts) plus the vendor row id. */
  key: string;
  /** Event time, Unix seconds (ledger slice, per-lot progress). */
  time: number;
  /** Vendor row id: photos are fetched by it at push time. */
  vendorKey: string;
  /** The lot's code (per-lot progress, the failed-set view). */
  lot: string;
  /**
   * The payload without its photo field, serialized once when the row is read. A push job carries
   * it as text, so the pusher neither parses it into objects nor serializes it again (that round
   * trip through the job's JSON cost ~1.5 µs a record more than carrying the text).
   */
  payload: string;
}

/** `"enter_pic":""}` and the like, per field: most records of a stream without photos. */
const emptyTails = new Map<string, string>();

/** The wire text of a record: its payload with the photo field appended. */
export function withPhoto(payload: string, field: string, value: string): string {
  let tail = value === '' ? emptyTails.get(field) : undefined;
  if (tail === undefined) {
    tail = `${JSON.stringify(field)}:${JSON.stringify(value)}}`;
    if (value === '') emptyTails.set(field, tail);
  }
  return payload === '{}' ? `{${tail}` : `${payload.slice(0, -1)},${tail}`;
}

/**
 * What sending one batch came to (a subset of the ISP client's outcomes). Should the client have
 * split the batch after all, `deliveredFirst` records at its head were accepted before the failure.
 */
export type SendOutcome =
  | { kind: 'delivered' }
  | { kind: 'rejected'; message: string; deliveredFirst?: number }
  | { kind: 'auth-failed'; message: string; deliveredFirst?: number }
  | { kind: 'retryable'; reason: string; retryAfterMs?: number; deliveredFirst?: number };

export type PreparedRecord =
  /** `text`: the wire payload serialized once, as it will be sent; `bytes`: its size (src/isp/batches.ts `utf8Bound`). */
  | { ok: true; record: EventRecord; text: string; bytes: number }
  | { ok: false; record: EventRecord; reason: { code: string; field?: string; message: string } };

export interface PushEventsDeps {
  ledger: {
    delivered(entries: LedgerEntry[]): Promise<boolean[]>;
    markDelivered(entries: LedgerEntry[]): Promise<void>;
  };
  /** Turns records into wire texts (photos attached). Records whose photo policy quarantines them come back not ok. */
  prepare(records: EventRecord[]): Promise<PreparedRecord[]>;
  /** Sends one batch (already within limits) in one request; `bytes`: each text's size (UTF-8 length or its bound). */
  send(texts: string[], bytes: number[]): Promise<SendOutcome>;
  /** Stores a record that cannot be sent (photo policy) in the quarantine. */
  quarantine(record: EventRecord, reason: { code: string; field?: string; message: string }): Promise<void>;
  /** Parks records ISP rejected alone in the failed set (as jobs of their own). */
  isolate(rejected: Array<{ record: EventRecord; message: string }>): Promise<void>;
  maxItems: number;
  maxBytes: number;
  /** Records prepared at once: bounds the photos held in memory. */
  prepareWindow: number;
  /** Told of every batch ISP accepted, after the ledger has it (metrics, status page). */
  onDelivered?(records: EventRecord[]): Promise<void>;
  /**
   * Told, between batches, the earliest event time among the job's records still to go: the
   * departure gate moves with each batch instead of waiting for the whole job.
   */
  advance?(earliestRemaining: number): Promise<void>;
}

export interface PushEventsOptions {
  /**
   * Send even what the ledger says was delivered: the operator's --force, or records the caller
   * has just checked against the ledger itself (a direct delivery checks a whole page at once).
   */
  force?: boolean;
  /** Bisect a rejected batch now instead of failing the job for another attempt. */
  bisectRejected: boolean;
}

export interface PushEventsResult {
  delivered: number;
  skipped: number;
  quarantined: number;
  isolated: number;
}

export async function pushEvents(
  records: EventRecord[],
  deps: PushEventsDeps,
  options: PushEventsOptions,
): Promise<PushEventsResult> {
  const result: PushEventsResult = { delivered: 0, skipped: 0, quarantined: 0, isolated: 0 };
  let todo = records;
  if (!options.force) {
    const seen = await deps.ledger.delivered(records);
    todo = records.filter((_, i) => !seen[i]);
    result.skipped = records.length - todo.length;
  }

  let batch: Array<Extract<PreparedRecord, { ok: true }>> = [];
  let batchBytes = 2;
  const flush = async () => {
    if (batch.length === 0) return;
    const sent = batch;
    batch = [];
    batchBytes = 2;
    await sendBatch(sent, deps, options, result);
  };

  // Earliest event time of todo[k..] (the job's records still to go), for deps.advance.
  const suffix = deps.advance ? suffixMinima(todo.map((r) => r.time)) : [];
  const earliestFrom = (k: number) => suffix[k] ?? Number.POSITIVE_INFINITY;

  // The next window is prepared while this one is batched and sent: the photo encoder keeps
  // working while a full batch is on its way to ISP (at most two windows of photos in memory).
  const w = deps.prepareWindow;
  let next: Promise<PreparedRecord[]> | undefined = todo.length ? deps.prepare(todo.slice(0, w)) : undefined;
  try {
    for (let i = 0; i < todo.length; i += w) {
      const prepared: PreparedRecord[] = await next!;
      next = i + w < todo.length ? deps.prepare(todo.slice(i + w, i + 2 * w)) : undefined;
      for (const [j, item] of prepared.entries()) {
        if (!item.ok) {
          await deps.quarantine(item.record, item.reason);
          result.quarantined++;
          continue;
        }
        const added = item.bytes + 1;
        if (batch.length > 0 && (batch.length >= deps.maxItems || batchBytes + added > deps.maxBytes)) {
          await flush();
          // Everything before this record is done (delivered, quarantined or parked).
          await deps.advance?.(earliestFrom(i + j));
        }
        batch.push(item);
        batchBytes += added;
      }
    }
    await flush();
  } finally {
    // A failed send ends the job: the window being prepared is dropped (its rejection too).
    next?.catch(() => undefined);
  }
  return result;
}

/** out[k] = min(xs[k..]). */
function suffixMinima(xs: readonly number[]): number[] {
  const out = new Array<number>(xs.length);
  let min = Number.POSITIVE_INFINITY;
  for (let k = xs.length - 1; k >= 0; k--) {
    min = Math.min(min, xs[k]!);
    out[k] = min;
  }
  return out;
}

async function sendBatch(
  batch: Array<Extract<PreparedRecord, { ok: true }>>,
  deps: PushEventsDeps,
  options: PushEventsOptions,
  result: PushEventsResult,
): Promise<void> {
  const outcome = await deps.send(
    batch.map((b) => b.text),
    batch.map((b) => b.bytes),
  );
  if (outcome.kind !== 'delivered' && outcome.deliveredFirst) {
    const head = batch.slice(0, outcome.deliveredFirst);
    await deps.ledger.markDelivered(head.map((b) => b.record));
    await deps.onDelivered?.(head.map((b) => b.record));
    result.delivered += head.length;
    batch = batch.slice(outcome.deliveredFirst);
  }
  switch (outcome.kind) {
    case 'delivered':
      await deps.ledger.markDelivered(batch.map((b) => b.record));
      await deps.onDelivered?.(batch.map((b) => b.record));
      result.delivered += batch.length;
      return;
    case 'retryable':
      throw new IspUnavailableError(outcome.reason, outcome.retryAfterMs);
    case 'auth-failed':
      throw new IspAuthError(outcome.message);
    case 'rejected': {
      if (!options.bisectRejected) throw new IspRejectedError(outcome.message);
      if (batch.length === 1) {
        const only = batch[0]!;
        await deps.isolate([{ record: only.record, message: outcome.message }]);
        result.isolated++;
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await sendBatch(batch.slice(0, half), deps, options, result);
      await sendBatch(batch.slice(half), deps, options, result);
      return;
    }
  }
}
