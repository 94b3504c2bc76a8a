/**
 * Reconciliation: per lot, per day (vendor zone) and per event stream, what the vendor recorded
 * against what ISP received, and the keys of what is missing. Pure core: every read is passed in
 * (`reconcile-deps.ts` wires them to a Runtime), so the rules are tested without servers.
 *
 * A vendor row of the day is read with the stream's own page query (the same SQL, transform and
 * ledger key as the poll), then counted once, in the first of these that holds it:
 *   unread      its cursor time is at or after where the stream's poll has read up to (provisional)
 *   delivered   its ledger key is in the delivered-key ledger
 *   quarantined the quarantine holds its vendor row
 *   failed      a failed push job carries it
 *   pending     a push job still to run carries it, or it is held for its lot
 *   missing     none of these: it was lost on the way, and `--repair` sends it
 * The sets of pending and failed keys are read before the rows and the ledger, so an event moving
 * on while we look (pending → delivered, pending → failed) is still counted once, never missing.
 */

import type { RowOutcome } from '../events/records.js';
import { ledgerKey, naturalKeyOf } from '../events/records.js';
import type { EventRow } from '../streams.js';
import { checkDaysRetained, dayBounds, daysBetween, provisionalFrom } from './days.js';
import { closeMatches, UnknownLotError } from './lot-names.js';
import type {
  EventStreamName,
  LotDayReconcile,
  MissingEvent,
  ReconcileQuery,
  ReconcileReport,
} from './types.js';

export const RECONCILED_STREAMS: readonly EventStreamName[] = ['entrances', 'departures'];

export interface ReconcileDeps {
  /** The vendor's zone: days are calendar days there. */
  zone: string;
  /** Days the delivery records are kept (reconcile.retainDays). */
  retainDays: number;
  /** Epoch ms. */
  now(): number;
  /** Every lot code of the vendor's lot table. */
  lotCodes(): Promise<string[]>;
  /** Everything with a cursor time before this (Unix s) has been read by the stream's poll. */
  readUpTo(stream: EventStreamName): Promise<number | undefined>;
  /** Ledger keys carried by push jobs still to run, and by events held for their lot. */
  pendingKeys(stream: EventStreamName): Promise<ReadonlySet<string>>;
  /** Ledger keys carried by failed push jobs. */
  failedKeys(stream: EventStreamName): Promise<ReadonlySet<string>>;
  /** The rows with a cursor time in [from, to) (Unix s), page by page, through the stream's page query. */
  readRows(
    stream: EventStreamName,
    range: { from: number; to: number },
    onPage: (rows: EventRow[]) => Promise<void>,
  ): Promise<void>;
  transform(stream: EventStreamName, row: EventRow): RowOutcome;
  /** A row's cursor time, Unix s (undefined: it does not parse). */
  cursorEpoch(stream: EventStreamName, row: EventRow): number | undefined;
  /** Which records the ledger has (same order). */
  delivered(
    stream: EventStreamName,
    records: ReadonlyArray<{ key: string; time: number }>,
  ): Promise<boolean[]>;
  /** Which vendor rows the quarantine holds (same order). */
  quarantined(stream: EventStreamName, vendorKeys: readonly string[]): Promise<boolean[]>;
}

/** The rows of a report, keyed (day, lot, stream), with the missing events in vendor order. */
type Tally = Omit<LotDayReconcile, 'provisional' | 'provisionalFrom'>;

export async function reconcileDays(deps: ReconcileDeps, query: ReconcileQuery): Promise<ReconcileReport> {
  const checkedAt = deps.now();
  const days = daysBetween(query.from, query.to, deps.zone);
  checkDaysRetained(days, checkedAt / 1000, deps.zone, deps.retainDays);
  const codes = await deps.lotCodes();
  if (query.lot !== undefined && !codes.includes(query.lot))
    throw new UnknownLotError(query.lot, closeMatches(query.lot, codes));
  const lots = query.lot !== undefined ? [query.lot] : codes;

  const rows: LotDayReconcile[] = [];
  for (const stream of RECONCILED_STREAMS) {
    // Order matters (see the top): where the poll is, then pending, then failed, then the ledger.
    const readUpTo = await deps.readUpTo(stream);
    const pending = await deps.pendingKeys(stream);
    const failed = await deps.failedKeys(stream);
    for (const day of days) {
      const bounds = dayBounds(day, deps.zone);
      const open = provisionalFrom(bounds, readUpTo);
      const tallies = new Map<string, Tally>();
      const tally = (lot: string): Tally => {
        let t = tallies.get(lot);
        if (!t) {
          t = {
            day,
            parkCode: lot,
            stream,
            recorded: 0,
            delivered: 0,
            quarantined: 0,
            failed: 0,
            pending: 0,
            unread: 0,
            missing: [],
          };
          tallies.set(lot, t);
        }
        return t;
      };
      for (const lot of lots) tally(lot);
      await deps.readRows(stream, { from: bounds.start, to: bounds.end }, async (page) => {
        await classifyPage(deps, stream, page, { lot: query.lot, open, pending, failed, tally });
      });
      await lookAgain(deps, stream, [...tallies.values()]);
      for (const t of [...tallies.values()].sort((a, b) => a.parkCode.localeCompare(b.parkCode))) {
        rows.push({
          ...t,
          provisional: open !== undefined,
          ...(open !== undefined ? { provisionalFrom: open } : {}),
        });
      }
    }
  }
  rows.sort(
    (a, b) =>
      a.day.localeCompare(b.day) || a.parkCode.localeCompare(b.parkCode) || a.stream.localeCompare(b.stream),
  );
  const missingByStream = { entrances: 0, departures: 0 } as Record<EventStreamName, number>;
  for (const r of rows) missingByStream[r.stream] += r.missing.length;
  return {
    zone: deps.zone,
    from: days[0]!,
    to: days.at(-1)!,
    ...(query.lot !== undefined ? { lot: query.lot } : {}),
    checkedAt,
    rows,
    complete: rows.every((r) => r.missing.length === 0),
    missingByStream,
  };
}

interface PageContext {
  lot: string | undefined;
  /** The day is not read from here on (Unix s). */
  open: number | undefined;
  pending: ReadonlySet<string>;
  failed: ReadonlySet<string>;
  tally(lot: string): Tally;
}

/** Counts one page of vendor rows into the tallies of their lots. */
async function classifyPage(
  deps: ReconcileDeps,
  stream: EventStreamName,
  page: EventRow[],
  ctx: PageContext,
) {
  type Item = { row: EventRow; lot: string; at: number; outcome: RowOutcome };
  const items: Item[] = [];
  for (const row of page) {
    const outcome = deps.transform(stream, row);
    const lot = outcome.ok ? outcome.record.lot : lotOfRow(row);
    if (ctx.lot !== undefined && lot !== ctx.lot) continue;
    const at = deps.cursorEpoch(stream, row) ?? Number.NaN;
    const t = ctx.tally(lot);
    t.recorded++;
    if (ctx.open !== undefined && !(at < ctx.open)) {
      t.unread++;
      continue;
    }
    items.push({ row, lot, at, outcome });
  }
  const readable = items.filter((i) => i.outcome.ok);
  const records = readable.map((i) => (i.outcome as Extract<RowOutcome, { ok: true }>).record);
  const seen = records.length ? await deps.delivered(stream, records) : [];
  const undelivered: Item[] = [];
  readable.forEach((item, i) => {
    if (seen[i]) ctx.tally(item.lot).delivered++;
    else undelivered.push(item);
  });
  undelivered.push(...items.filter((i) => !i.outcome.ok));
  if (undelivered.length === 0) return;
  const inQuarantine = await deps.quarantined(
    stream,
    undelivered.map((i) => i.row.vendorKey),
  );
  undelivered.forEach((item, i) => {
    const t = ctx.tally(item.lot);
    if (inQuarantine[i]) {
      t.quarantined++;
      return;
    }
    if (item.outcome.ok) {
      const record = item.outcome.record;
      if (ctx.failed.has(record.key)) t.failed++;
      else if (ctx.pending.has(record.key)) t.pending++;
      else t.missing.push(missingOf(stream, item.lot, record.key, item.row.vendorKey, record.time));
      return;
    }
    const reason = item.outcome.reasons.map((r) => r.message).join('; ');
    t.missing.push({
      ...missingOf(stream, item.lot, '', item.row.vendorKey, Number.isFinite(item.at) ? item.at : 0),
      reason: `cannot become a payload and is not in the quarantine: ${reason}`,
    });
  });
}

/**
 * A second look at what seems missing, with fresh sets: an event that moved on between two of the
 * first look's reads (a job taken from one state list to another meanwhile) is found now.
 */
async function lookAgain(deps: ReconcileDeps, stream: EventStreamName, tallies: Tally[]): Promise<void> {
  const keyed = tallies.flatMap((t) => t.missing.filter((m) => m.key !== '').map((m) => ({ t, m })));
  if (keyed.length === 0) return;
  const pending = await deps.pendingKeys(stream);
  const failed = await deps.failedKeys(stream);
  const keys = keyed.map(({ m }) => ({ key: ledgerKey(m.key, m.vendorId), time: m.time }));
  const seen = await deps.delivered(stream, keys);
  const found = new Set<MissingEvent>();
  keyed.forEach(({ t, m }, i) => {
    const key = keys[i]!.key;
    if (seen[i]) t.delivered++;
    else if (failed.has(key)) t.failed++;
    else if (pending.has(key)) t.pending++;
    else return;
    found.add(m);
  });
  if (found.size) for (const t of tallies) t.missing = t.missing.filter((m) => !found.has(m));
}

function missingOf(
  stream: EventStreamName,
  lot: string,
  ledgerKey: string,
  vendorId: string,
  time: number,
): MissingEvent {
  return { stream, parkCode: lot, key: ledgerKey ? naturalKeyOf(ledgerKey, vendorId) : '', vendorId, time };
}

/** The lot of a row that cannot become a record: its park code as text, '' when there is none. */
function lotOfRow(row: EventRow): string {
  const code = (row as { parkCode?: unknown }).parkCode;
  return code === null || code === undefined ? '' : String(code).trim();
}
