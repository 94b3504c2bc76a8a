/**
 * One poll of a lot stream (parks, spot counts): small tables, read whole and compared with what
 * ISP was last sent.
 * Changes are written to a pending map (code -> latest payload), so a burst of changes to one lot
 * leaves only its latest count to send, and one flush job sends whatever is pending. A lot that
 * vanished (hard delete, or soft-delete flag) goes to DELETE /park/spot once. A lot whose row
 * became malformed is quarantined, never deleted.
 *
 * I/O is passed in (`LotPollDeps`); poll-deps.ts wires it to a Runtime.
 */
import { fingerprint, type LotItem } from '../../state/lot-changes.js';
import type { LotRowOutcome, LotStreamName } from '../streams.js';

/** The lot changes in Redis, as a poll sees them (src/state/lot-changes.ts). */
export interface LotPollStore {
  /** code -> fingerprint of what ISP last accepted. */
  delivered(stream: LotStreamName): Promise<Map<string, string>>;
  setPending(stream: LotStreamName, items: LotItem[]): Promise<void>;
  setPendingDeletes(stream: LotStreamName, codes: string[]): Promise<void>;
}

export interface LotPollDeps {
  stream: LotStreamName;
  /** Whether a lot missing from the read is deleted at ISP (the stream table's `deletesVanished`). */
  deletesVanished: boolean;
  readAll(): Promise<LotRowOutcome['row'][]>;
  transform(row: LotRowOutcome['row']): LotRowOutcome;
  store: LotPollStore;
  quarantine(outcome: LotRowOutcome): Promise<void>;
  /** Adds the flush job (deduplicated: one pending flush per stream). */
  requestFlush(): Promise<void>;
}

export interface LotPollResult {
  rows: number;
  changed: number;
  deleted: number;
  quarantined: number;
}

/** One poll (or, with `full`, the nightly full sync: every lot is sent again). */
export async function pollLots(deps: LotPollDeps, full = false): Promise<LotPollResult> {
  const rows = await deps.readAll();
  const current = new Map<string, LotItem>();
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
  const vanished = deps.deletesVanished
    ? [...delivered.keys()].filter((code) => !current.has(code) && !keep.has(code))
    : [];
  if (changed.length) await deps.store.setPending(deps.stream, changed);
  if (vanished.length) await deps.store.setPendingDeletes(deps.stream, vanished);
  if (changed.length || vanished.length) await deps.requestFlush();
  return { rows: rows.length, changed: changed.length, deleted: vanished.length, quarantined };
}
