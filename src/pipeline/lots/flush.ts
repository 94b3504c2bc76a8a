/**
 * Sends what a lot stream has pending: the latest payload of every changed lot, in batches within
 * ISP's limits, and DELETE /park/spot for lots that vanished. A batch ISP keeps refusing is bisected
 * until the refused lot is alone, and that lot is isolated in the failed set.
 *
 * I/O is passed in (`LotFlushDeps`); flush-deps.ts wires it to a Runtime.
 */
import type { LotItem, PendingLot } from '../../state/lot-changes.js';
import { type SendOutcome, throwUnlessDelivered } from '../send-outcome.js';
import type { LotStreamName } from '../streams.js';

/** What a flush needs; `store` is the lot changes in Redis (src/state/lot-changes.ts). */
export interface LotFlushDeps {
  stream: LotStreamName;
  store: {
    pending(stream: LotStreamName): Promise<PendingLot[]>;
    pendingDeletes(stream: LotStreamName): Promise<string[]>;
    markSent(stream: LotStreamName, items: PendingLot[]): Promise<void>;
    markDeleted(stream: LotStreamName, codes: string[]): Promise<void>;
  };
  /** Sends one batch of lots (each as the JSON stored when it changed). */
  send(items: PendingLot[]): Promise<SendOutcome>;
  sendDeletes(codes: string[]): Promise<SendOutcome>;
  /** Parks a lot ISP rejected alone in the failed set. */
  isolate(item: LotItem, message: string): Promise<void>;
  maxItems: number;
  maxBytes: number;
  bisectRejected: boolean;
}

export interface LotFlushResult {
  sent: number;
  deleted: number;
  isolated: number;
}

/** Sends every pending lot (and pending deletion) of the stream. */
export async function flushLots(deps: LotFlushDeps): Promise<LotFlushResult> {
  const result: LotFlushResult = { sent: 0, deleted: 0, isolated: 0 };
  const pending = await deps.store.pending(deps.stream);
  for (const batch of batches(pending, deps.maxItems, deps.maxBytes)) {
    await sendLotBatch(batch, deps, result);
  }
  const codes = await deps.store.pendingDeletes(deps.stream);
  for (let i = 0; i < codes.length; i += deps.maxItems) {
    const slice = codes.slice(i, i + deps.maxItems);
    throwUnlessDelivered(await deps.sendDeletes(slice));
    await deps.store.markDeleted(deps.stream, slice);
    result.deleted += slice.length;
  }
  return result;
}

async function sendLotBatch(batch: PendingLot[], deps: LotFlushDeps, result: LotFlushResult): Promise<void> {
  const outcome = await deps.send(batch);
  if (outcome.kind === 'rejected' && deps.bisectRejected) {
    if (batch.length === 1) {
      await deps.isolate(batch[0]!, outcome.message);
      // Remembered as sent: it is not retried every poll, only when it changes or is replayed.
      await deps.store.markSent(deps.stream, batch);
      result.isolated++;
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await sendLotBatch(batch.slice(0, half), deps, result);
    await sendLotBatch(batch.slice(half), deps, result);
    return;
  }
  throwUnlessDelivered(outcome);
  await deps.store.markSent(deps.stream, batch);
  result.sent += batch.length;
}

function* batches<T extends { json: string }>(
  items: T[],
  maxItems: number,
  maxBytes: number,
): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 2;
  for (const item of items) {
    const size = Buffer.byteLength(item.json) + 1;
    if (batch.length && (batch.length >= maxItems || bytes + size > maxBytes)) {
      yield batch;
      batch = [];
      bytes = 2;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length) yield batch;
}
