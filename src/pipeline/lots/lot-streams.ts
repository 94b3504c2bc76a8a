/**
 * Parks and spot counts: small tables, read whole and compared with what ISP was last sent.
 * Changes are written to a pending map (code -> latest payload), so a burst of changes to one lot
 * leaves only its latest count to send, and one flush job sends whatever is pending. A lot that
 * vanished (hard delete, or soft-delete flag) goes to DELETE /park/spot once. A lot whose row
 * became malformed is quarantined, never deleted.
 *
 * I/O is passed in; jobs/poll.ts, jobs/push.ts and jobs/full-sync.ts wire it.
 */
import { createHash } from 'node:crypto';
import { IspAuthError, IspRejectedError, IspUnavailableError } from '../errors.js';
import type { SendOutcome } from '../events/push.js';

export type StateStream = 'parks' | 'spotNums';

export interface StateItem {
  code: string;
  payload: Record<string, unknown>;
}

export interface StateRowOutcome<Row> {
  row: Row;
  /** Park code when known, even for a row that cannot be sent. */
  code?: string;
  item?: StateItem;
  /** Soft-deleted lot. */
  deleted?: boolean;
  reasons?: Array<{ code: string; message: string }>;
}

export interface StateStore {
  /** code -> fingerprint of what ISP last accepted. */
  delivered(stream: StateStream): Promise<Map<string, string>>;
  setPending(stream: StateStream, items: StateItem[]): Promise<void>;
  setPendingDeletes(codes: string[]): Promise<void>;
}

export function fingerprint(payload: Record<string, unknown>): string {
  return createHash('sha1').update(JSON.stringify(payload)).digest('base64url').slice(0, 16);
}

export interface StatePollDeps<Row> {
  stream: StateStream;
  readAll(): Promise<Row[]>;
  transform(row: Row): StateRowOutcome<Row>;
  store: StateStore;
  quarantine(outcome: StateRowOutcome<Row>): Promise<void>;
  /** Adds the flush job (deduplicated: one pending flush per stream). */
  requestFlush(): Promise<void>;
}

export interface StatePollResult {
  rows: number;
  changed: number;
  deleted: number;
  quarantined: number;
}

/** One poll (or, with `full`, the nightly full sync: every lot is sent again). */
export async function pollState<Row>(deps: StatePollDeps<Row>, full = false): Promise<StatePollResult> {
  const rows = await deps.readAll();
  const current = new Map<string, StateItem>();
  const keep = new Set<string>();
  let quarantined = 0;
  for (const row of rows) {
    const outcome = deps.transform(row);
    if (outcome.item && !outcome.deleted) {
      current.set(outcome.item.code, outcome.item);
    } else if (outcome.reasons) {
      if (outcome.code) keep.add(outcome.code);
      await deps.quarantine(outcome);
      quarantined++;
    }
  }
  const delivered = await deps.store.delivered(deps.stream);
  const changed = [...current.values()].filter(
    (item) => full || delivered.get(item.code) !== fingerprint(item.payload),
  );
  const vanished =
    deps.stream === 'parks'
      ? [...delivered.keys()].filter((code) => !current.has(code) && !keep.has(code))
      : [];
  if (changed.length) await deps.store.setPending(deps.stream, changed);
  if (vanished.length) await deps.store.setPendingDeletes(vanished);
  if (changed.length || vanished.length) await deps.requestFlush();
  return { rows: rows.length, changed: changed.length, deleted: vanished.length, quarantined };
}

/** What a flush needs; `store` is the Redis state (src/state/lot-changes.ts). */
export interface StateFlushDeps {
  stream: StateStream;
  store: {
    pending(stream: StateStream): Promise<Array<StateItem & { json: string }>>;
    pendingDeletes(): Promise<string[]>;
    markSent(stream: StateStream, items: Array<StateItem & { json: string }>): Promise<void>;
    markDeleted(codes: string[]): Promise<void>;
  };
  send(payloads: Record<string, unknown>[]): Promise<SendOutcome>;
  sendDeletes(codes: string[]): Promise<SendOutcome>;
  /** Parks a lot ISP rejected alone in the failed set. */
  isolate(item: StateItem, message: string): Promise<void>;
  maxItems: number;
  maxBytes: number;
  bisectRejected: boolean;
}

export interface StateFlushResult {
  sent: number;
  deleted: number;
  isolated: number;
}

/** Sends every pending lot (and pending deletion) of the stream. */
export async function flushState(deps: StateFlushDeps): Promise<StateFlushResult> {
  const result: StateFlushResult = { sent: 0, deleted: 0, isolated: 0 };
  const pending = await deps.store.pending(deps.stream);
  for (const batch of batches(pending, deps.maxItems, deps.maxBytes)) {
    await sendStateBatch(batch, deps, result);
  }
  if (deps.stream === 'parks') {
    const codes = await deps.store.pendingDeletes();
    for (let i = 0; i < codes.length; i += deps.maxItems) {
      const slice = codes.slice(i, i + deps.maxItems);
      throwUnlessDelivered(await deps.sendDeletes(slice));
      await deps.store.markDeleted(slice);
      result.deleted += slice.length;
    }
  }
  return result;
}

async function sendStateBatch(
  batch: Array<StateItem & { json: string }>,
  deps: StateFlushDeps,
  result: StateFlushResult,
): Promise<void> {
  const outcome = await deps.send(batch.map((i) => i.payload));
  if (outcome.kind === 'rejected' && deps.bisectRejected) {
    if (batch.length === 1) {
      await deps.isolate(batch[0]!, outcome.message);
      // Remembered as sent: it is not retried every poll, only when it changes or is replayed.
      await deps.store.markSent(deps.stream, batch);
      result.isolated++;
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await sendStateBatch(batch.slice(0, half), deps, result);
    await sendStateBatch(batch.slice(half), deps, result);
    return;
  }
  throwUnlessDelivered(outcome);
  await deps.store.markSent(deps.stream, batch);
  result.sent += batch.length;
}

function throwUnlessDelivered(outcome: SendOutcome): void {
  switch (outcome.kind) {
    case 'delivered':
      return;
    case 'retryable':
      throw new IspUnavailableError(outcome.reason, outcome.retryAfterMs);
    case 'auth-failed':
      throw new IspAuthError(outcome.message);
    case 'rejected':
      throw new IspRejectedError(outcome.message);
  }
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
