/**
 * The lot health evaluation wired to a Runtime: its facts read from the stores (lot health,
 * activity, lot changes, stream progress and the push queues), its state in Redis, its webhook.
 * Reads only, besides the alert state and the notification queue it owns.
 */
import { isLiveJob } from '../events/departure-gate.js';
import type { Runtime } from '../runtime.js';
import { EVENT_STREAM_NAMES } from '../streams.js';
import type { HealthDeps } from './evaluate.js';
import { type HealthFacts, offsetAt, type StreamHealthFacts } from './rules.js';
import { webhookSender } from './webhook.js';

export function healthDeps(rt: Runtime): HealthDeps {
  const settings = rt.config.alerts;
  const zone = rt.config.vendor.timeZone;
  const store = rt.health;
  return {
    source: rt.config.source.name,
    settings,
    logger: rt.logger,
    facts: (nowMs) => collectHealthFacts(rt, nowMs),
    active: () => store.active(),
    commit: (active, removed, notifications) => store.commit(active, removed, notifications),
    outbox: () => store.outbox(),
    shiftOutbox: (count) => store.shiftOutbox(count),
    sentInWindow: (index) => store.sentInWindow(index),
    countSent: (index, ttl) => store.countSent(index, ttl),
    send: webhookSender(settings.webhook, zone),
  };
}

export async function collectHealthFacts(rt: Runtime, nowMs: number): Promise<HealthFacts> {
  const zone = rt.config.vendor.timeZone;
  const [lots, clock, outcomes, vanished, deleted] = await Promise.all([
    rt.health.lots((t) => offsetAt(zone, t)),
    rt.activity.vendorClock(),
    rt.health.outcomes(nowMs),
    rt.lotChanges.vanished('parks'),
    rt.lotChanges.deleted('parks'),
  ]);
  const window = rt.config.alerts.deliveryLatency.windowSeconds;
  const streams: StreamHealthFacts[] = [];
  for (const stream of EVENT_STREAM_NAMES) {
    const [readUpTo, latency, oldest] = await Promise.all([
      rt.progress.caughtUp(stream),
      rt.health.maxLatency(stream, nowMs - window * 1000, nowMs),
      rt.progress.oldestPending(stream, (id) => isLiveJob(rt, stream, id)),
    ]);
    streams.push({
      stream,
      readUpTo: readUpTo ?? null,
      recentLatencySeconds: latency ?? null,
      oldestPending: oldest ?? null,
    });
  }
  return {
    now: Math.floor(nowMs / 1000),
    zone,
    vendorClock: clock ? { skewSeconds: Math.round(clock.skewMs / 1000), at: clock.at } : null,
    lots,
    retiredLots: new Set([...vanished.keys(), ...deleted.keys()]),
    outcomes,
    streams,
  };
}
