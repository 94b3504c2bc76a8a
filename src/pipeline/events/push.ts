/**
 * Delivers one push job of entrances or departures: skips what the ledger says ISP already has,
 * attaches photos a few records at a time (fetched and encoded now, never stored in Redis), sends
 * batches within the count and byte limits, records each delivered batch in the ledger at once,
 * and, for a batch ISP keeps rejecting, sends each record alone so the rejected ones are isolated.
 *
 * I/O is passed in (`PushEventsDeps`), so the rules here are tested without BullMQ.
 */
import type { RecordText } from '../../isp/index.js';
import type { LedgerEntry } from '../../state/ledger.js';
import { type SendOutcome, throwUnlessDelivered } from '../send-outcome.js';
import type { EventRecord } from './records.js';

export type PreparedRecord =
  /** ISP does not know the record's lot yet (or deleted it): held until the lot is registered. */
  | { ok: false; record: EventRecord; hold: { lot: string; reason: string } }
  /**
   * `text`: the wire payload serialized once, as it will be sent (a photo as bytes: src/isp/record-text.ts);
   * `bytes`: its size (src/isp/batches.ts `utf8Bound`).
   */
  | {
      ok: true;
      record: EventRecord;
      text: RecordText;
      bytes: number;
      /** The vendor row referenced a photo that goes without it (missing file, failed fetch, corrupt, refused). */
      photoMissing?: boolean;
    }
  | { ok: false; record: EventRecord; reason: { code: string; field?: string; message: string } };

export interface PushEventsDeps {
  ledger: {
    delivered(entries: LedgerEntry[]): Promise<boolean[]>;
    /** The records ISP accepted (their ledger entries, and their vendor ids for the departure gate). */
    markDelivered(entries: EventRecord[]): Promise<void>;
  };
  /** Turns records into wire texts (photos attached). Records whose photo policy quarantines them come back not ok. */
  prepare(records: EventRecord[]): Promise<PreparedRecord[]>;
  /** Sends one batch (already within limits) in one request; `bytes`: each text's size (UTF-8 length or its bound). */
  send(texts: RecordText[], bytes: number[]): Promise<SendOutcome>;
  /** Told when a batch is done with (delivered, isolated or failed): its photo memory may be reused. */
  release?(texts: RecordText[]): void;
  /** Stores a record that cannot be sent (photo policy) in the quarantine. */
  quarantine(record: EventRecord, reason: { code: string; field?: string; message: string }): Promise<void>;
  /** Holds records whose lot ISP does not know (src/pipeline/lots/registration.ts). */
  hold?(held: Array<{ record: EventRecord; lot: string; reason: string }>): Promise<void>;
  /** A refused batch is being split record by record (the job remembers it across attempts). */
  onSplit?(): Promise<void>;
  /** Parks records ISP rejected alone in the failed set (as jobs of their own). */
  isolate(rejected: Array<{ record: EventRecord; message: string }>): Promise<void>;
  maxItems: number;
  maxBytes: number;
  /** Records prepared at once: bounds the photos held in memory. */
  prepareWindow: number;
  /**
   * Told of every batch ISP accepted, after the ledger has it (metrics, status page, daily
   * figures); `withoutPhoto`: those of `records` sent without the photo their row referenced.
   */
  onDelivered?(records: EventRecord[], withoutPhoto: EventRecord[]): Promise<void>;
  /**
   * Told, between batches, the earliest event time among the job's records still to go: the
   * departure gate moves with each batch instead of waiting for the whole job.
   */
  advance?(earliestRemaining: number): Promise<void>;
}

export interface PushEventsOptions {
  /**
   * `check` (the default): skip what the ledger says ISP has. `checked`: the caller has just asked
   * the ledger itself (a direct delivery asks for a whole page at once). `resend`: send even what
   * ISP has (the operator's `replay --force`).
   */
  ledger?: 'check' | 'checked' | 'resend';
  /** Split a rejected batch now (each record alone) instead of failing the job for another attempt. */
  splitRejected: boolean;
  /** The job is one record isolated earlier (its ledger key): a rejection parks it in the failed set. */
  isolatedKey?: string;
}

export interface PushEventsResult {
  delivered: number;
  skipped: number;
  quarantined: number;
  isolated: number;
  /** Held until their lot is registered at ISP. */
  held: number;
}

export async function pushEvents(
  records: EventRecord[],
  deps: PushEventsDeps,
  options: PushEventsOptions,
): Promise<PushEventsResult> {
  const result: PushEventsResult = { delivered: 0, skipped: 0, quarantined: 0, isolated: 0, held: 0 };
  let todo = records;
  if ((options.ledger ?? 'check') === 'check') {
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
    try {
      await sendBatch(sent, deps, options, result);
    } finally {
      deps.release?.(sent.map((b) => b.text));
    }
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
      const held: Array<{ record: EventRecord; lot: string; reason: string }> = [];
      for (const [j, item] of prepared.entries()) {
        if (!item.ok) {
          if ('hold' in item) {
            held.push({ record: item.record, ...item.hold });
            continue;
          }
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
      if (held.length) {
        if (!deps.hold) throw new Error('records to hold, but this push cannot hold records');
        await deps.hold(held);
        result.held += held.length;
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
    await deps.onDelivered?.(
      head.map((b) => b.record),
      withoutPhoto(head),
    );
    result.delivered += head.length;
    batch = batch.slice(outcome.deliveredFirst);
  }
  if (outcome.kind === 'rejected' && options.splitRejected) {
    if (batch.length === 1) {
      const only = batch[0]!;
      await deps.isolate([{ record: only.record, message: outcome.message }]);
      result.isolated++;
      return;
    }
    // Each record alone, once: a refused record reaches ISP twice in all (in the batch, then
    // alone), where bisecting sent it once per level (8 times in a batch of 100). The job is told
    // first, so a retry after a transient error goes on alone instead of sending the batch again.
    await deps.onSplit?.();
    for (const one of batch) await sendBatch([one], deps, options, result);
    return;
  }
  throwUnlessDelivered(outcome, options.isolatedKey);
  await deps.ledger.markDelivered(batch.map((b) => b.record));
  await deps.onDelivered?.(
    batch.map((b) => b.record),
    withoutPhoto(batch),
  );
  result.delivered += batch.length;
}

const NONE: EventRecord[] = [];

function withoutPhoto(batch: ReadonlyArray<Extract<PreparedRecord, { ok: true }>>): EventRecord[] {
  if (!batch.some((b) => b.photoMissing)) return NONE;
  return batch.filter((b) => b.photoMissing).map((b) => b.record);
}
