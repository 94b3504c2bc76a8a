/**
 * The vendor database's clock, as the transforms see it: each event poll reads the server's time
 * anyway (the commit-lag bound), and the difference from this host's clock is what a future-time
 * check must add, so rows stamped by a vendor clock minutes fast are not taken for the future.
 */
import { vendorClockSkew } from '../metrics.js';
import type { Runtime } from './runtime.js';

/** How much the skew must change (ms) before it is written down again for `status`. */
const RECORD_CHANGE_MS = 1_000;

export async function noteVendorClock(
  rt: Runtime,
  vendorNowSeconds: number,
  hostNowMs = Date.now(),
): Promise<void> {
  const skewMs = Math.round(vendorNowSeconds * 1000 - hostNowMs);
  const first = rt.vendorClock.measuredAt === null;
  const previous = rt.vendorClock.skewMs;
  rt.vendorClock.skewMs = skewMs;
  rt.vendorClock.measuredAt = hostNowMs;
  vendorClockSkew.set({ source: rt.config.source.name }, skewMs / 1000);
  if (first || Math.abs(previous - skewMs) >= RECORD_CHANGE_MS)
    await rt.activity.recordVendorClock(skewMs, hostNowMs);
}
