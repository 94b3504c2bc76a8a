/**
 * Every Prometheus metric of the process, defined once (prom-client). Modules import the metric
 * they update; /metrics serves `registry`. Labels are bounded: sources, streams, endpoints, outcome
 * classes, and dictionary values (vendor words, few by nature) so an operator can see which word to add.
 *
 * One process may run several sources (vendor systems), all counted in this one registry. Every
 * metric of ours carries `source` (the config's `source.name`) as its first label, so no figure of
 * one source is added to another's. None of ours is process-wide: photo work, ISP requests and
 * tokens are per source too (each has its own photo settings and limiters, its own ISP client and
 * credentials). Only prom-client's default metrics (`isp_sync_process_*`, `isp_sync_nodejs_*`: CPU,
 * memory, event loop, GC) go without it: they measure the process, which its sources share and
 * which cannot be divided among them.
 *
 * The types below hold the rule: an update names its source and every other label of the metric
 * (prom-client's own types make every label optional, so a forgotten `source` would compile and
 * mix the sources). No gauge is reset: `reset()` would wipe every source's series; a gauge shown as
 * a whole (alerts, queue depths) replaces only its own source's series (`seriesOfOneSource`).
 */
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'isp_sync_' });

/** Label values of one update of a source's metric: `source` and every label of the metric. */
export type SourceLabels<L extends string = never> = Readonly<Record<'source' | L, string>>;

/** What may be read of any of our metrics (tests). */
export interface ReadableMetric<L extends string = never> {
  get(): Promise<MetricObjectWithValues<MetricValue<'source' | L>>>;
}

export interface SourceCounter<L extends string = never> extends ReadableMetric<L> {
  inc(labels: SourceLabels<L>, value?: number): void;
}

export interface SourceGauge<L extends string = never> extends ReadableMetric<L> {
  set(labels: SourceLabels<L>, value: number): void;
  /** Removes one series (never `reset()`: that would remove every source's). */
  remove(labels: SourceLabels<L>): void;
}

export interface SourceHistogram<L extends string = never> extends ReadableMetric<L> {
  observe(labels: SourceLabels<L>, value: number): void;
}

interface Definition<L extends string> {
  name: string;
  help: string;
  /** The metric's own labels; `source` goes first, before them. */
  labelNames?: readonly L[];
}

const withSource = <L extends string>(labelNames: readonly L[] = []): Array<'source' | L> => [
  'source',
  ...labelNames,
];

function counter<L extends string = never>(d: Definition<L>): SourceCounter<L> {
  return new Counter<'source' | L>({ ...d, labelNames: withSource(d.labelNames), registers: [registry] });
}

function gauge<L extends string = never>(d: Definition<L>): SourceGauge<L> {
  return new Gauge<'source' | L>({ ...d, labelNames: withSource(d.labelNames), registers: [registry] });
}

function histogram<L extends string = never>(d: Definition<L> & { buckets: number[] }): SourceHistogram<L> {
  return new Histogram<'source' | L>({ ...d, labelNames: withSource(d.labelNames), registers: [registry] });
}

/** One series' identity, whatever order its labels were written in. */
const seriesKey = (labels: Readonly<Record<string, string>>): string =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

/**
 * Shows one source's series of a gauge as a whole: the series it showed last time and not now are
 * removed, other sources' series are not touched. What each source showed is remembered here
 * (prom-client cannot list a gauge's series synchronously, and reading them asynchronously would
 * let two refreshes of one source interleave and leave a stale series behind), so the returned
 * function must be the gauge's only writer.
 */
function seriesOfOneSource<L extends string>(
  metric: SourceGauge<L>,
): (
  source: string,
  series: ReadonlyArray<{ labels: Omit<SourceLabels<L>, 'source'>; value: number }>,
) => void {
  const shown = new Map<string, Map<string, SourceLabels<L>>>();
  return (source, series) => {
    const now = new Map<string, SourceLabels<L>>();
    for (const s of series) {
      const labels = { source, ...s.labels } as SourceLabels<L>;
      now.set(seriesKey(labels), labels);
      metric.set(labels, s.value);
    }
    for (const [key, labels] of shown.get(source) ?? []) if (!now.has(key)) metric.remove(labels);
    shown.set(source, now);
  };
}

export const rowsRead = counter({
  name: 'isp_sync_rows_read_total',
  help: 'Vendor rows read, per source and stream',
  labelNames: ['stream'],
});

export const eventsDelivered = counter({
  name: 'isp_sync_events_delivered_total',
  help: 'Records ISP accepted, per source and stream',
  labelNames: ['stream'],
});

export const eventsRejected = counter({
  name: 'isp_sync_events_rejected_total',
  help: 'Records ISP rejected with code 1 and that ended in the failed set, per source and stream',
  labelNames: ['stream'],
});

export const sweptLateRows = counter({
  name: 'isp_sync_swept_late_rows_total',
  help: 'Low-latency mode: rows committed late that the live poll never read, found and handed on by the sweep, per source and stream',
  labelNames: ['stream'],
});

export const probedLateRows = counter({
  name: 'isp_sync_id_gap_late_rows_total',
  help: 'Low-latency mode with probeIdGaps: rows committed late, found at an id the live poll skipped and handed on, per source and stream',
  labelNames: ['stream'],
});

export const directHandOffs = counter({
  name: 'isp_sync_direct_handoffs_total',
  help: 'Push jobs a poll could not deliver directly and handed to the push queue (retries), per source and stream',
  labelNames: ['stream'],
});

export const rowsQuarantined = counter({
  name: 'isp_sync_rows_quarantined_total',
  help: 'Vendor rows that could not become a valid payload, per source, stream and reason',
  labelNames: ['stream', 'reason'],
});

export const transformWarnings = counter({
  name: 'isp_sync_transform_warnings_total',
  help: 'Rows sent with a warning (unknown dictionary value, plate failing validation, missing photo)',
  labelNames: ['stream', 'kind'],
});

export const unknownValues = counter({
  name: 'isp_sync_unknown_dictionary_values_total',
  help: "Vendor values not in a dictionary (sent as the default code): add them to the source's config",
  labelNames: ['dictionary', 'value'],
});

export const streamLag = gauge({
  name: 'isp_sync_stream_lag_seconds',
  help: 'Age of the newest row the stream has read (checkpoint) relative to now',
  labelNames: ['stream'],
});

export const pushDuration = histogram({
  name: 'isp_sync_push_duration_seconds',
  help: 'ISP request latency, per source, endpoint and outcome',
  labelNames: ['endpoint', 'outcome'],
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});

const queueDepthGauge = gauge({
  name: 'isp_sync_queue_depth',
  help: 'Jobs per source, queue and state',
  labelNames: ['queue', 'state'],
});
/** Read only: `showQueueDepth` writes it. */
export const queueDepth: ReadableMetric<'queue' | 'state'> = queueDepthGauge;

/**
 * Sets one source's `isp_sync_queue_depth` to exactly the series given (none: its queues could not
 * be counted, so its series go rather than stay stale). Other sources' series stay.
 */
export const showQueueDepth = seriesOfOneSource(queueDepthGauge);

export const tokenRefreshes = counter({
  name: 'isp_sync_token_refreshes_total',
  help: 'ISP token fetches, per source and result',
  labelNames: ['result'],
});

export const photoEncodes = counter({
  name: 'isp_sync_photo_encodes_total',
  help: 'JPEG encodes done to fit photos under the limit',
});

export const photoBytes = counter({
  name: 'isp_sync_photo_bytes_total',
  help: 'Bytes of photo strings produced (prefix + Base64)',
});

export const photoFileReadsStuck = gauge({
  name: 'isp_sync_photo_file_reads_stuck',
  help:
    "File reads under the source's photo.fileRoot past photo.fileTimeoutMs that have not returned: a photo share " +
    'that stopped answering (each holds a thread of the process; no new read starts there until they return)',
});

export const photos = counter({
  name: 'isp_sync_photos_total',
  help: 'Photos per outcome: passthrough, stripped (metadata removed, no encode), reencoded, missing, corrupt, refused',
  labelNames: ['outcome'],
});

export const lotDeleteGuard = gauge({
  name: 'isp_sync_lot_delete_guard',
  help: '1 while the mass-deletion guard holds deletions back (confirm with `full-sync --confirm-deletes`), else 0',
  labelNames: ['stream'],
});

export const lotStatesSuperseded = counter({
  name: 'isp_sync_lot_states_superseded_total',
  help: 'Lot or count states dropped because a newer one was already pending or delivered, per source and stream',
  labelNames: ['stream'],
});

export const eventsHeld = counter({
  name: 'isp_sync_events_held_total',
  help: 'Events held until ISP registers their lot, per source and stream',
  labelNames: ['stream'],
});

export const reconcileMissing = gauge({
  name: 'isp_sync_reconcile_missing',
  help: 'Events the vendor recorded that ISP did not receive and nothing accounts for, per source and stream, in the last nightly reconcile (yesterday, vendor zone)',
  labelNames: ['stream'],
});

export const reconcileCheckedAt = gauge({
  name: 'isp_sync_reconcile_checked_timestamp_seconds',
  help: "When the source's last nightly reconcile ran (Unix s): alert when it is more than a day old",
});

export const vendorClockSkew = gauge({
  name: 'isp_sync_vendor_clock_skew_seconds',
  help: "The source's vendor database clock minus this host's, as measured at the last event poll",
});

const alertActiveGauge = gauge({
  name: 'isp_sync_alert_active',
  help: '1 while a lot health alert is active (docs/operations.md, "Lot health alerts"); cleared alerts have no series',
  labelNames: ['alert', 'lot', 'stream'],
});
/** Read only: `showActiveAlerts` writes it. */
export const alertActive: ReadableMetric<'alert' | 'lot' | 'stream'> = alertActiveGauge;

export const alertsFired = counter({
  name: 'isp_sync_alerts_fired_total',
  help: 'Lot health alerts fired, per source and alert',
  labelNames: ['alert'],
});

export const alertNotifications = counter({
  name: 'isp_sync_alert_notifications_total',
  help: 'Alert webhook messages, per source and result: sent, failed (retried at the next evaluation), given_up',
  labelNames: ['result'],
});

const showAlertSeries = seriesOfOneSource(alertActiveGauge);

/**
 * Sets one source's `isp_sync_alert_active` to exactly the alerts given (a cleared alert's series
 * goes); other sources' alerts stay.
 */
export function showActiveAlerts(
  source: string,
  active: ReadonlyArray<{ alert: string; lot: string; stream: string }>,
): void {
  showAlertSeries(
    source,
    active.map((a) => ({ labels: { alert: a.alert, lot: a.lot, stream: a.stream }, value: 1 })),
  );
}
