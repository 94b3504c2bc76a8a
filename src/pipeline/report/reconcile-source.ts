/**
 * The reconciliation the daily report stands on: recorded, quarantined, failed, pending and
 * missing per lot and day come from `reconcileDays` (src/pipeline/reconcile/). Until that module
 * is part of the build, the report has none and says so ("not reconciled": deliveries only).
 */
import type { Runtime } from '../runtime.js';
import type { ReconcileSource } from './report-deps.js';

export function reportReconcileSource(_rt: Runtime): ReconcileSource {
  return async () => undefined;
}
