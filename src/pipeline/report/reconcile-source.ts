/**
 * The reconciliation the daily report stands on: recorded, quarantined, failed, pending and
 * missing per lot and day, from `reconcileDays` over the days asked (it reads the vendor's rows of
 * those days, and says which days and lots can be reconciled when asked for others).
 */
import { reconcileDays } from '../reconcile/reconcile.js';
import { reconcileDeps } from '../reconcile/reconcile-deps.js';
import type { Runtime } from '../runtime.js';
import type { ReconcileSource } from './report-deps.js';

export function reportReconcileSource(rt: Runtime): ReconcileSource {
  return async (query) => (await reconcileDays(reconcileDeps(rt), query)).rows;
}
