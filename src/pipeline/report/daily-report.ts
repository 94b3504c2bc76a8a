/**
 * The daily report: per lot and day (vendor zone), entrances and departures, what reached ISP,
 * what did not (missing, quarantined, failed), photos missing, replayed, delivery latency
 * (p50/p99) and completeness. Pure: a reconciliation's rows and the delivery figures per day
 * (src/state/delivery-days.ts) in, report rows out; the CLI and the formatters do the rest.
 */
import type { LotDayDelivery } from '../../state/delivery-days.js';
import { mergeHistogram, percentile } from '../../state/latency-buckets.js';
import type { LotDayReconcile } from '../reconcile/types.js';
import type { EventStreamName } from '../streams.js';

export interface ReportRow {
  day: string;
  parkCode: string;
  /** The lot's name in the vendor's lot table; '' when it has none or is gone. */
  lotName: string;
  /** Entrances the vendor recorded (reconciled), else delivered. */
  entrances: number;
  /** Departures the vendor recorded (reconciled), else delivered. */
  departures: number;
  /** Events of the day ISP has. */
  delivered: number;
  /** Recorded, and none of delivered, quarantined, failed, pending or unread; null: not reconciled. */
  missing: number | null;
  quarantined: number | null;
  failed: number | null;
  /** In a push job still to run, held for their lot, or not read yet (a provisional day). */
  pending: number | null;
  /** Delivered without the photo their vendor row referenced. */
  photosMissing: number;
  /** Delivered by a job back from the failed set, or resent. */
  replayed: number;
  /** Delivery latency (event time → ISP's acceptance), seconds; null without deliveries. */
  latencyP50: number | null;
  latencyP99: number | null;
  /** Delivered / recorded, percent (100 for a day without events); null: not reconciled. */
  completeness: number | null;
  /** The day is still being written (today, or not read to its end yet). */
  provisional: boolean;
}

export interface DailyReport {
  /** The vendor zone the days are in. */
  zone: string;
  from: string;
  to: string;
  lot?: string;
  /** Recorded, missing, quarantined, failed and completeness come from a reconciliation. */
  reconciled: boolean;
  rows: ReportRow[];
  /** Every lot of each day summed (latency over every delivery of the range). */
  total: Omit<ReportRow, 'day' | 'parkCode' | 'lotName'>;
}

export interface ReportInput {
  zone: string;
  from: string;
  to: string;
  lot?: string | undefined;
  /** undefined: no reconciliation available (the report shows deliveries only). */
  reconcile: readonly LotDayReconcile[] | undefined;
  deliveries: ReadonlyArray<LotDayDelivery & { stream: EventStreamName }>;
  /** Lot code → name (the vendor's lot table). */
  lotNames?: ReadonlyMap<string, string>;
}

interface Acc {
  day: string;
  parkCode: string;
  recorded: Record<EventStreamName, number>;
  deliveredByStream: Record<EventStreamName, number>;
  reconciledDelivered: number;
  missing: number;
  quarantined: number;
  failed: number;
  pending: number;
  photosMissing: number;
  replayed: number;
  latency: Map<number, number>;
  provisional: boolean;
}

const round1 = (x: number | undefined) => (x === undefined ? null : Math.round(x * 10) / 10);

/** Lot codes in the order people sort them (ATXL/2 before ATXL/10). */
const collator = new Intl.Collator('en', { numeric: true });

export function buildDailyReport(input: ReportInput): DailyReport {
  const reconciled = input.reconcile !== undefined;
  const rows = new Map<string, Acc>();
  const acc = (day: string, parkCode: string): Acc => {
    const id = `${day}\n${parkCode}`;
    let a = rows.get(id);
    if (!a) {
      a = {
        day,
        parkCode,
        recorded: { entrances: 0, departures: 0 },
        deliveredByStream: { entrances: 0, departures: 0 },
        reconciledDelivered: 0,
        missing: 0,
        quarantined: 0,
        failed: 0,
        pending: 0,
        photosMissing: 0,
        replayed: 0,
        latency: new Map(),
        provisional: false,
      };
      rows.set(id, a);
    }
    return a;
  };
  const wanted = (day: string, lot: string) =>
    day >= input.from && day <= input.to && (input.lot === undefined || lot === input.lot);

  for (const r of input.reconcile ?? []) {
    if (!wanted(r.day, r.parkCode)) continue;
    const a = acc(r.day, r.parkCode);
    a.recorded[r.stream] += r.recorded;
    a.reconciledDelivered += r.delivered;
    a.missing += missingCount(r);
    a.quarantined += r.quarantined;
    a.failed += r.failed;
    a.pending += pendingCount(r);
    a.provisional ||= r.provisional;
  }
  for (const d of input.deliveries) {
    if (!wanted(d.day, d.parkCode)) continue;
    const a = acc(d.day, d.parkCode);
    a.deliveredByStream[d.stream] += d.delivered;
    a.photosMissing += d.photosMissing;
    a.replayed += d.replayed;
    mergeHistogram(a.latency, d.latency);
  }

  const out = [...rows.values()]
    .sort((x, y) => (x.day < y.day ? -1 : x.day > y.day ? 1 : collator.compare(x.parkCode, y.parkCode)))
    .map((a) => toRow(a, reconciled, input.lotNames?.get(a.parkCode) ?? ''));
  const total = sumRows(out, [...rows.values()], reconciled);
  return {
    zone: input.zone,
    from: input.from,
    to: input.to,
    ...(input.lot === undefined ? {} : { lot: input.lot }),
    reconciled,
    rows: out,
    total,
  };
}

/** A stored nightly result keeps a count beside a cut list of missing keys. */
function missingCount(r: LotDayReconcile & { missingCount?: number }): number {
  return r.missingCount ?? r.missing.length;
}

/** On their way: in a job still to run or held (pending), or not read yet (unread). */
function pendingCount(r: LotDayReconcile): number {
  return r.pending + r.unread;
}

function toRow(a: Acc, reconciled: boolean, lotName: string): ReportRow {
  const deliveredStats = a.deliveredByStream.entrances + a.deliveredByStream.departures;
  const recorded = a.recorded.entrances + a.recorded.departures;
  const delivered = reconciled ? a.reconciledDelivered : deliveredStats;
  return {
    day: a.day,
    parkCode: a.parkCode,
    lotName,
    entrances: reconciled ? a.recorded.entrances : a.deliveredByStream.entrances,
    departures: reconciled ? a.recorded.departures : a.deliveredByStream.departures,
    delivered,
    missing: reconciled ? a.missing : null,
    quarantined: reconciled ? a.quarantined : null,
    failed: reconciled ? a.failed : null,
    pending: reconciled ? a.pending : null,
    photosMissing: a.photosMissing,
    replayed: a.replayed,
    latencyP50: round1(percentile(a.latency, 0.5)),
    latencyP99: round1(percentile(a.latency, 0.99)),
    completeness: reconciled ? completeness(delivered, recorded) : null,
    provisional: a.provisional,
  };
}

/** Delivered of recorded, percent to one decimal, never rounded up to 100 while one is short. */
export function completeness(delivered: number, recorded: number): number {
  if (recorded <= 0) return 100;
  const pct = Math.floor((delivered / recorded) * 1000) / 10;
  return Math.min(100, pct);
}

function sumRows(
  rows: readonly ReportRow[],
  accs: readonly Acc[],
  reconciled: boolean,
): DailyReport['total'] {
  const sum = (pick: (r: ReportRow) => number | null) => rows.reduce((n, r) => n + (pick(r) ?? 0), 0);
  const latency = new Map<number, number>();
  for (const a of accs) mergeHistogram(latency, a.latency);
  const recorded = sum((r) => r.entrances) + sum((r) => r.departures);
  return {
    entrances: sum((r) => r.entrances),
    departures: sum((r) => r.departures),
    delivered: sum((r) => r.delivered),
    missing: reconciled ? sum((r) => r.missing) : null,
    quarantined: reconciled ? sum((r) => r.quarantined) : null,
    failed: reconciled ? sum((r) => r.failed) : null,
    pending: reconciled ? sum((r) => r.pending) : null,
    photosMissing: sum((r) => r.photosMissing),
    replayed: sum((r) => r.replayed),
    latencyP50: round1(percentile(latency, 0.5)),
    latencyP99: round1(percentile(latency, 0.99)),
    completeness: reconciled
      ? completeness(
          sum((r) => r.delivered),
          recorded,
        )
      : null,
    provisional: rows.some((r) => r.provisional),
  };
}
