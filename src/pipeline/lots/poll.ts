/**
 * One poll of a lot stream (parks, spot counts): small tables, read whole and compared with what
 * ISP was last sent.
 * Changes are written to a pending map (code -> latest payload), so a burst of changes to one lot
 * leaves only its latest count to send, and one flush job sends whatever is pending. A lot that
 * vanished (hard delete, or soft-delete flag) is remembered as vanished; its DELETE waits for its
 * data (lots/flush.ts). A pass that would make too many lots vanish at once deletes nothing (the
 * mass-deletion guard) until an operator confirms. A lot whose row became malformed is
 * quarantined, never deleted.
 *
 * I/O is passed in (`LotPollDeps`); poll-deps.ts wires it to a Runtime.
 */
import { type DeleteGuard, fingerprint, type ReadLot } from '../../state/lot-changes.js';
import type { LotRowOutcome, LotStreamName } from '../streams.js';

/** The lot changes in Redis, as a poll sees them (src/state/lot-changes.ts). */
export interface LotPollStore {
  /** code -> fingerprint of what ISP last accepted. */
  delivered(stream: LotStreamName): Promise<Map<string, string>>;
  /** code -> fingerprint of the state ISP refused last (not sent again unchanged). */
  refused(stream: LotStreamName): Promise<Map<string, string>>;
  /**
   * Sets what is newer than what is pending or delivered; returns how many were older. Without
   * `force`, a state ISP already has is not set.
   */
  setPending(stream: LotStreamName, items: ReadLot[], force?: boolean): Promise<number>;
  vanished(stream: LotStreamName): Promise<Map<string, number>>;
  setVanished(stream: LotStreamName, codes: string[], at: number): Promise<void>;
  setGuard(stream: LotStreamName, guard: DeleteGuard | undefined): Promise<void>;
  takeConfirmation(stream: LotStreamName): Promise<boolean>;
}

export interface LotPollDeps {
  stream: LotStreamName;
  /** Whether a lot missing from the read is deleted at ISP (the stream table's `deletesVanished`). */
  deletesVanished: boolean;
  /** The mass-deletion guard: a pass may mark at most this share of the registered lots vanished. */
  maxDeleteShare: number;
  readAll(): Promise<LotRowOutcome['row'][]>;
  transform(row: LotRowOutcome['row']): LotRowOutcome;
  store: LotPollStore;
  quarantine(outcome: LotRowOutcome): Promise<void>;
  /** Adds the flush job (deduplicated: one pending flush per stream). */
  requestFlush(): Promise<void>;
  /**
   * Of a source in a fleet: claims the codes read for this source, returning those another source
   * holds (code → its name). Their rows are quarantined, never sent: ISP knows a lot by its code.
   */
  claim?(codes: string[]): Promise<Map<string, string>>;
  /** Told every lot code the read found (the table's contents, malformed rows included). */
  onRead?(codes: ReadonlySet<string>): Promise<void>;
  /** Told when the guard holds deletions back (log, metric). */
  onGuard?(guard: DeleteGuard | undefined): Promise<void> | void;
  now?(): number;
}

export interface LotPollResult {
  rows: number;
  changed: number;
  /** Lots newly seen gone from the vendor's table (their DELETE waits: lots/flush.ts). */
  vanished: number;
  quarantined: number;
  /** States older than one already pending or delivered (a race with another reader), dropped. */
  superseded: number;
  /** Set when the mass-deletion guard held this pass's deletions back. */
  guard?: DeleteGuard;
}

/** One poll (or, with `full`, the nightly full sync: every lot is sent again). */
export async function pollLots(deps: LotPollDeps, full = false): Promise<LotPollResult> {
  const now = deps.now ?? Date.now;
  // States are ordered by when their read began: a read that began later holds newer rows.
  const at = now();
  const rows = await deps.readAll();
  const current = new Map<string, ReadLot>();
  const keep = new Set<string>();
  let quarantined = 0;
  const rowOf = new Map<string, LotRowOutcome['row']>();
  for (const row of rows) {
    const outcome = deps.transform(row);
    if (outcome.item && !outcome.deleted) {
      current.set(outcome.item.code, { ...outcome.item, at });
      rowOf.set(outcome.item.code, row);
    } else if (outcome.reasons) {
      if (outcome.code) keep.add(outcome.code);
      await deps.quarantine(outcome);
      quarantined++;
    }
  }
  if (deps.claim && current.size > 0) {
    for (const [code, owner] of await deps.claim([...current.keys()])) {
      current.delete(code);
      keep.add(code);
      await deps.quarantine({
        row: rowOf.get(code)!,
        code,
        reasons: [
          {
            code: 'park-code-of-another-source',
            message:
              `park code ${code} belongs to source ${owner}: ISP knows a lot by its code alone, so this ` +
              `source does not send it; correct the code in this vendor's lot table, or purge ${owner} if it is gone`,
          },
        ],
      });
      quarantined++;
    }
  }
  await deps.onRead?.(new Set([...current.keys(), ...keep]));
  const [delivered, refused, vanishing] = await Promise.all([
    deps.store.delivered(deps.stream),
    deps.store.refused(deps.stream),
    deps.deletesVanished ? deps.store.vanished(deps.stream) : Promise.resolve(new Map<string, number>()),
  ]);
  // A lot that is back after vanishing is sent again, which also ends its wait for DELETE.
  const changed = [...current.values()].filter((item) => {
    if (full || vanishing.has(item.code)) return true;
    const fp = fingerprint(item.payload);
    return delivered.get(item.code) !== fp && refused.get(item.code) !== fp;
  });
  // A full sync sends every lot again; a lot back after vanishing is sent again too.
  const forced = full || changed.some((item) => vanishing.has(item.code));
  const superseded = changed.length ? await deps.store.setPending(deps.stream, changed, forced) : 0;
  const result: LotPollResult = {
    rows: rows.length,
    changed: changed.length,
    vanished: 0,
    quarantined,
    superseded,
  };

  if (deps.deletesVanished) {
    const gone = [...delivered.keys()].filter((code) => !current.has(code) && !keep.has(code));
    const fresh = gone.filter((code) => !vanishing.has(code));
    const guard = fresh.length ? tripped(deps, rows.length, gone, delivered.size, at) : undefined;
    if (guard && !(await deps.store.takeConfirmation(deps.stream))) {
      result.guard = guard;
    } else if (fresh.length) {
      await deps.store.setVanished(deps.stream, fresh, at);
      result.vanished = fresh.length;
    }
    await deps.store.setGuard(deps.stream, result.guard);
    await deps.onGuard?.(result.guard);
  }
  // Vanished lots wait for their DELETE: each poll lets the flush look at them again.
  const waiting = result.vanished > 0 || [...vanishing.keys()].some((code) => !current.has(code));
  if (changed.length || waiting) await deps.requestFlush();
  return result;
}

/** The mass-deletion guard: an empty read, or more lots gone than the share allows. */
function tripped(
  deps: LotPollDeps,
  rowsRead: number,
  gone: string[],
  registered: number,
  at: number,
): DeleteGuard | undefined {
  const share = registered ? gone.length / registered : 0;
  const reason =
    rowsRead === 0
      ? `the lot table read no rows while ISP has ${registered} lots (a wrong database, an emptied or renamed table, a lost grant?)`
      : share > deps.maxDeleteShare
        ? `${gone.length} of ${registered} lots (${Math.round(share * 100)}%) are gone from the lot table, more than streams.${deps.stream}.maxDeleteShare (${Math.round(deps.maxDeleteShare * 100)}%)`
        : undefined;
  if (!reason) return undefined;
  return { at, codes: gone.slice(0, 20), wouldDelete: gone.length, registered, rowsRead, reason };
}
