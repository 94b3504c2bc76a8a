/**
 * Sends what a lot stream has pending: the latest payload of every changed lot, in batches within
 * ISP's limits (a count only once its lot is registered), and DELETE /park/spot for vanished lots
 * whose data has all been delivered. A batch ISP keeps refusing is bisected until the refused lot
 * is alone, and that lot is isolated in the failed set; a refused DELETE list is split the same way.
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
    markSent(stream: LotStreamName, items: PendingLot[]): Promise<void>;
    markRefused(stream: LotStreamName, items: PendingLot[]): Promise<void>;
    vanished(stream: LotStreamName): Promise<Map<string, number>>;
    markDeleted(stream: LotStreamName, codes: string[], at: number): Promise<void>;
    setDeleteWaits(stream: LotStreamName, waits: ReadonlyMap<string, string>): Promise<void>;
  };
  /** Sends one batch of lots (each as the JSON stored when it changed). */
  send(items: PendingLot[]): Promise<SendOutcome>;
  sendDeletes(codes: string[]): Promise<SendOutcome>;
  /** Parks a lot (or a lot's DELETE) ISP refused alone in the failed set, with ISP's message. */
  isolate(item: LotItem, message: string, action: 'upsert' | 'delete'): Promise<void>;
  /**
   * Which pending items may go now: a count waits (pending, unsent) until its lot is registered at
   * ISP. Default: all go.
   */
  admit?(items: PendingLot[]): Promise<{ go: PendingLot[]; waiting: number }>;
  /** ISP accepted these lots (registered them): data held for them may follow. */
  onSent?(items: PendingLot[]): Promise<void>;
  /** Which vanished lots may be deleted now; the others wait, each with the reason. */
  deletable?(vanished: Map<string, number>): Promise<{ ready: string[]; waits: Map<string, string> }>;
  maxItems: number;
  maxBytes: number;
  splitRejected: boolean;
  now?(): number;
}

export interface LotFlushResult {
  sent: number;
  deleted: number;
  isolated: number;
  /** Items or deletions that wait for something else to be delivered first. */
  waiting: number;
}

/** Sends every pending lot of the stream, then the DELETEs whose time has come. */
export async function flushLots(deps: LotFlushDeps): Promise<LotFlushResult> {
  const result: LotFlushResult = { sent: 0, deleted: 0, isolated: 0, waiting: 0 };
  const pending = await deps.store.pending(deps.stream);
  const { go, waiting } = deps.admit ? await deps.admit(pending) : { go: pending, waiting: 0 };
  result.waiting += waiting;
  for (const batch of batches(go, deps.maxItems, deps.maxBytes)) {
    await sendLotBatch(batch, deps, result);
  }
  const vanished = await deps.store.vanished(deps.stream);
  if (vanished.size === 0) return result;
  const { ready, waits } = deps.deletable
    ? await deps.deletable(vanished)
    : { ready: [...vanished.keys()], waits: new Map<string, string>() };
  await deps.store.setDeleteWaits(deps.stream, waits);
  result.waiting += waits.size;
  for (let i = 0; i < ready.length; i += deps.maxItems) {
    await sendDeleteBatch(ready.slice(i, i + deps.maxItems), deps, result);
  }
  return result;
}

async function sendLotBatch(batch: PendingLot[], deps: LotFlushDeps, result: LotFlushResult): Promise<void> {
  const outcome = await deps.send(batch);
  if (outcome.kind === 'rejected' && deps.splitRejected) {
    if (batch.length === 1) {
      await deps.isolate(batch[0]!, outcome.message, 'upsert');
      // Remembered as refused: not registered, and not retried every poll, only when it changes
      // or is replayed.
      await deps.store.markRefused(deps.stream, batch);
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
  await deps.onSent?.(batch);
  result.sent += batch.length;
}

/**
 * One DELETE of a comma-joined list of codes. A refused list is split like a refused batch: the
 * codes ISP takes are deleted, each refused code is isolated in the failed set with ISP's message.
 */
async function sendDeleteBatch(codes: string[], deps: LotFlushDeps, result: LotFlushResult): Promise<void> {
  const outcome = await deps.sendDeletes(codes);
  if (outcome.kind === 'rejected' && codes.length > 1) {
    const half = Math.ceil(codes.length / 2);
    await sendDeleteBatch(codes.slice(0, half), deps, result);
    await sendDeleteBatch(codes.slice(half), deps, result);
    return;
  }
  const at = (deps.now ?? Date.now)();
  if (outcome.kind === 'rejected') {
    // Parked for the operator; the lot counts as deleted here so the next poll does not ask again
    // (a replay of the isolated job sends the DELETE again).
    await deps.isolate({ code: codes[0]!, payload: {} }, outcome.message, 'delete');
    await deps.store.markDeleted(deps.stream, codes, at);
    result.isolated++;
    return;
  }
  throwUnlessDelivered(outcome);
  await deps.store.markDeleted(deps.stream, codes, at);
  result.deleted += codes.length;
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
