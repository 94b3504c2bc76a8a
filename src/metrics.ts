/**
 * Every Prometheus metric of the process, defined once (prom-client). Modules import the metric
 * they update; /metrics serves `registry`. Labels are bounded: streams, endpoints, outcome classes,
 * and dictionary values (vendor words, few by nature) so an operator can see which word to add.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'isp_sync_' });

export const rowsRead = new Counter({
  name: 'isp_sync_rows_read_total',
  help: 'Vendor rows read, per stream',
  labelNames: ['stream'] as const,
  registers: [registry],
});

export const eventsDelivered = new Counter({
  name: 'isp_sync_events_delivered_total',
  help: 'Records ISP accepted, per stream',
  labelNames: ['stream'] as const,
  registers: [registry],
});

export const eventsRejected = new Counter({
  name: 'isp_sync_events_rejected_total',
  help: 'Records ISP rejected with code 1 and that ended in the failed set, per stream',
  labelNames: ['stream'] as const,
  registers: [registry],
});

export const sweptLateRows = new Counter({
  name: 'isp_sync_swept_late_rows_total',
  help: 'Low-latency mode: rows committed late that the live poll never read, found and handed on by the sweep, per stream',
  labelNames: ['stream'] as const,
  registers: [registry],
});

export const directHandOffs = new Counter({
  name: 'isp_sync_direct_handoffs_total',
  help: 'Push jobs a poll could not deliver directly and handed to the push queue (retries), per stream',
  labelNames: ['stream'] as const,
  registers: [registry],
});

export const rowsQuarantined = new Counter({
  name: 'isp_sync_rows_quarantined_total',
  help: 'Vendor rows that could not become a valid payload, per stream and reason',
  labelNames: ['stream', 'reason'] as const,
  registers: [registry],
});

export const transformWarnings = new Counter({
  name: 'isp_sync_transform_warnings_total',
  help: 'Rows sent with a warning (unknown dictionary value, plate failing validation, missing photo)',
  labelNames: ['stream', 'kind'] as const,
  registers: [registry],
});

export const unknownValues = new Counter({
  name: 'isp_sync_unknown_dictionary_values_total',
  help: 'Vendor values not in a dictionary (sent as the default code): add them to config',
  labelNames: ['dictionary', 'value'] as const,
  registers: [registry],
});

export const streamLag = new Gauge({
  name: 'isp_sync_stream_lag_seconds',
  help: 'Age of the newest row the stream has read (checkpoint) relative to now',
  labelNames: ['stream'] as const,
  registers: [registry],
});

export const pushDuration = new Histogram({
  name: 'isp_sync_push_duration_seconds',
  help: 'ISP request latency, per endpoint and outcome',
  labelNames: ['endpoint', 'outcome'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

export const queueDepth = new Gauge({
  name: 'isp_sync_queue_depth',
  help: 'Jobs per queue and state',
  labelNames: ['queue', 'state'] as const,
  registers: [registry],
});

export const tokenRefreshes = new Counter({
  name: 'isp_sync_token_refreshes_total',
  help: 'ISP token fetches, per result',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const photoEncodes = new Counter({
  name: 'isp_sync_photo_encodes_total',
  help: 'JPEG encodes done to fit photos under the limit',
  registers: [registry],
});

export const photoBytes = new Counter({
  name: 'isp_sync_photo_bytes_total',
  help: 'Bytes of photo strings produced (prefix + Base64)',
  registers: [registry],
});

export const photos = new Counter({
  name: 'isp_sync_photos_total',
  help: 'Photos per outcome: passthrough, stripped (metadata removed, no encode), reencoded, missing, corrupt, refused',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const lotDeleteGuard = new Gauge({
  name: 'isp_sync_lot_delete_guard',
  help: '1 while the mass-deletion guard holds deletions back (confirm with `full-sync --confirm-deletes`), else 0',
  labelNames: ['stream'] as const,
  registers: [registry],
});

export const lotStatesSuperseded = new Counter({
  name: 'isp_sync_lot_states_superseded_total',
  help: 'Lot or count states dropped because a newer one was already pending or delivered, per stream',
  labelNames: ['stream'] as const,
  registers: [registry],
});

export const eventsHeld = new Counter({
  name: 'isp_sync_events_held_total',
  help: 'Events held until ISP registers their lot, per stream',
  labelNames: ['stream'] as const,
  registers: [registry],
});

export const reconcileMissing = new Gauge({
  name: 'isp_sync_reconcile_missing',
  help: 'Events the vendor recorded that ISP did not receive and nothing accounts for, per stream, in the last nightly reconcile (yesterday, vendor zone)',
  labelNames: ['stream'] as const,
  registers: [registry],
});

export const reconcileCheckedAt = new Gauge({
  name: 'isp_sync_reconcile_checked_timestamp_seconds',
  help: 'When the last nightly reconcile ran (Unix s): alert when it is more than a day old',
  registers: [registry],
});

export const vendorClockSkew = new Gauge({
  name: 'isp_sync_vendor_clock_skew_seconds',
  help: "The vendor database's clock minus this host's, as measured at the last event poll",
  registers: [registry],
});

export const alertActive = new Gauge({
  name: 'isp_sync_alert_active',
  help: '1 while a lot health alert is active (docs/operations.md, "Lot health alerts"); cleared alerts have no series',
  labelNames: ['alert', 'lot', 'stream'] as const,
  registers: [registry],
});

export const alertsFired = new Counter({
  name: 'isp_sync_alerts_fired_total',
  help: 'Lot health alerts fired, per alert',
  labelNames: ['alert'] as const,
  registers: [registry],
});

export const alertNotifications = new Counter({
  name: 'isp_sync_alert_notifications_total',
  help: 'Alert webhook messages, per result: sent, failed (retried at the next evaluation), given_up',
  labelNames: ['result'] as const,
  registers: [registry],
});

/** Sets `isp_sync_alert_active` to exactly the alerts given (a cleared alert's series goes). */
export function showActiveAlerts(
  active: ReadonlyArray<{ alert: string; lot: string; stream: string }>,
): void {
  alertActive.reset();
  for (const a of active) alertActive.set({ alert: a.alert, lot: a.lot, stream: a.stream }, 1);
}
