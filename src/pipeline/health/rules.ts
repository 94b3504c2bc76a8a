/**
 * The lot health rules, pure: facts in (what the stores hold, read by facts.ts), the alerts that
 * hold now out, each with the sentence an operator reads (what is wrong, the figures, what to do).
 * Nothing here reads a clock or Redis; evaluate.ts decides what fires and what clears.
 */
import { DateTime } from 'luxon';
import type { Config } from '../../config/index.js';
import { hourOfWeek, type LotHealthFacts, type LotOutcomes } from '../../state/lot-health.js';
import type { EventStreamName } from '../streams.js';

export const ALERT_NAMES = [
  'quiet-lot',
  'stale-count',
  'undelivered-lot',
  'vendor-clock-skew',
  'read-lag',
  'delivery-latency',
] as const;
export type AlertName = (typeof ALERT_NAMES)[number];

export type AlertSettings = Config['alerts'];

export interface Alert {
  alert: AlertName;
  /** The lot it is about ('' for none). */
  lot: string;
  /** The stream it is about ('' for none). */
  stream: string;
  reason: string;
}

export interface StreamHealthFacts {
  stream: EventStreamName;
  /** Every vendor row before this (Unix s) has been read and handed on; null before a first poll. */
  readUpTo: number | null;
  /** The slowest live delivery of the latency window, event time to ISP's acceptance (s). */
  recentLatencySeconds: number | null;
  /** Event time of the oldest event in a live push job not yet delivered (Unix s). */
  oldestPending: number | null;
}

export interface HealthFacts {
  /** This host's time, Unix s. */
  now: number;
  /** The vendor zone: hours of the week and times in the sentences are the vendor's. */
  zone: string;
  /** The vendor database's clock minus this host's, as last measured. */
  vendorClock: { skewSeconds: number; at: number } | null;
  lots: LotHealthFacts[];
  /** Lots that vanished from the vendor's table or were deleted at ISP: not watched. */
  retiredLots: ReadonlySet<string>;
  /** Per lot, events delivered / quarantined / refused in the current and the previous clock hour. */
  outcomes: ReadonlyMap<string, LotOutcomes>;
  streams: StreamHealthFacts[];
}

export const alertId = (a: Pick<Alert, 'alert' | 'lot' | 'stream'>) => `${a.alert}|${a.lot}|${a.stream}`;

/** Every alert that holds now. */
export function evaluateRules(facts: HealthFacts, settings: AlertSettings): Alert[] {
  const out: Alert[] = [];
  // Event times are the vendor's clock: a silence is measured on it.
  const eventNow = facts.now + (facts.vendorClock?.skewSeconds ?? 0);
  for (const lot of facts.lots) {
    if (facts.retiredLots.has(lot.parkCode)) continue;
    const quiet = quietLot(lot, eventNow, facts.zone, settings.quietLot);
    if (quiet) out.push(quiet);
    const stale = staleCount(lot, facts.now, eventNow, facts.zone, settings.staleCount);
    if (stale) out.push(stale);
  }
  for (const [lot, outcomes] of facts.outcomes) {
    if (facts.retiredLots.has(lot)) continue;
    const undelivered = undeliveredLot(lot, outcomes, settings.undelivered);
    if (undelivered) out.push(undelivered);
  }
  const skew = vendorClockSkew(facts.vendorClock, facts.zone, settings.maxVendorClockSkewSeconds);
  if (skew) out.push(skew);
  for (const s of facts.streams) {
    const lag = readLag(s, facts.now, facts.zone, settings.maxReadLagSeconds, facts.vendorClock);
    if (lag) out.push(lag);
    const latency = deliveryLatency(s, facts.now, facts.zone, settings.deliveryLatency);
    if (latency) out.push(latency);
  }
  return out;
}

/**
 * The longest silence a lot usually has when one begins in the hour of the week its last event
 * fell in, as the store learned it: halved for each week after the first since it was last seen,
 * as the store does when it learns.
 */
export function usualGap(lot: LotHealthFacts, week: number): number | undefined {
  if (!lot.usualGap) return undefined;
  return lot.usualGap.seconds * 0.5 ** Math.max(0, week - lot.usualGap.week - 1);
}

/**
 * A lot that has gone quiet: no event for longer than `factor` times its usual silence at this
 * hour of the week, and than `minSilenceSeconds`. A lot without history for that hour never alerts
 * (nothing to compare with); a lot that is always quiet at night has learned long silences there.
 */
export function quietLot(
  lot: LotHealthFacts,
  eventNow: number,
  zone: string,
  settings: AlertSettings['quietLot'],
): Alert | undefined {
  if (lot.lastEvent === undefined) return undefined;
  const offset = offsetAt(zone, lot.lastEvent);
  const usual = usualGap(lot, hourOfWeek(eventNow, offset).week);
  if (usual === undefined) return undefined;
  const silence = eventNow - lot.lastEvent;
  const limit = Math.max(settings.minSilenceSeconds, settings.factor * usual);
  if (silence <= limit) return undefined;
  const began = DateTime.fromSeconds(lot.lastEvent, { zone });
  return {
    alert: 'quiet-lot',
    lot: lot.parkCode,
    stream: '',
    reason:
      `lot ${lot.parkCode} has had no entrance or departure for ${duration(silence)} (last at ${when(lot.lastEvent, zone)}); ` +
      `a silence that begins ${began.toFormat('cccc')}s at ${began.toFormat('HH')}:00 usually lasts at most ${duration(usual)}, ` +
      `so it alerts after ${duration(limit)}. Check the lot's barriers and cameras and the vendor's system at the lot; ` +
      'it clears with the lot’s next event',
  };
}

/** A count unchanged for hours while the lot's events flow: the vendor's counter is likely stuck. */
export function staleCount(
  lot: LotHealthFacts,
  now: number,
  eventNow: number,
  zone: string,
  settings: AlertSettings['staleCount'],
): Alert | undefined {
  if (!lot.count || lot.lastEvent === undefined) return undefined;
  const unchanged = now - lot.count.changedAt;
  if (unchanged < settings.afterSeconds || lot.eventsSinceCount < settings.minEvents) return undefined;
  // Events stopped as well: that is a quiet lot, not a stuck counter.
  if (eventNow - lot.lastEvent > settings.afterSeconds) return undefined;
  const [total, remain] = lot.count.values.split('/');
  return {
    alert: 'stale-count',
    lot: lot.parkCode,
    stream: '',
    reason:
      `the free-space count of lot ${lot.parkCode} has stayed at ${remain} free of ${total} for ${duration(unchanged)} ` +
      `(since ${when(lot.count.changedAt, zone)}) while ${lot.eventsSinceCount} of its entrances and departures were delivered: ` +
      "the vendor's space counter (or the job that updates it) looks stuck; check it at the vendor. " +
      'It clears when the count changes',
  };
}

/** A lot whose events are mostly quarantined or refused by ISP. */
export function undeliveredLot(
  lot: string,
  outcomes: LotOutcomes,
  settings: AlertSettings['undelivered'],
): Alert | undefined {
  const bad = outcomes.quarantined + outcomes.refused;
  const total = bad + outcomes.delivered;
  if (total < settings.minEvents || bad / total < settings.share) return undefined;
  const what: string[] = [];
  if (outcomes.quarantined) what.push(`${outcomes.quarantined} quarantined (why: \`quarantine list\`)`);
  if (outcomes.refused) what.push(`${outcomes.refused} refused by ISP (why: \`replay --list --lot ${lot}\`)`);
  return {
    alert: 'undelivered-lot',
    lot,
    stream: '',
    reason:
      `${bad} of lot ${lot}'s ${total} events in the last one to two hours were not delivered: ${what.join(', ')}. ` +
      'Fix the data at the vendor or the mapping, then `quarantine retry` / `replay`. ' +
      `It clears when less than ${Math.round(settings.share * 100)}% of its events fail`,
  };
}

export function vendorClockSkew(
  clock: HealthFacts['vendorClock'],
  zone: string,
  maxSeconds: number,
): Alert | undefined {
  if (!clock || Math.abs(clock.skewSeconds) <= maxSeconds) return undefined;
  const side = clock.skewSeconds > 0 ? 'ahead of' : 'behind';
  return {
    alert: 'vendor-clock-skew',
    lot: '',
    stream: '',
    reason:
      `the vendor database's clock is ${duration(Math.abs(clock.skewSeconds))} ${side} this host's ` +
      `(bound ${duration(maxSeconds)}; measured by ${when(clock.at, zone)}): event times and the commit-lag guard ` +
      "follow the vendor's clock, so events reach ISP with times that far off. Have the vendor server's clock set " +
      '(NTP); it clears once a poll measures it within the bound',
  };
}

/** An event stream that has read the vendor only up to long ago: something holds its reading back. */
export function readLag(
  s: StreamHealthFacts,
  now: number,
  zone: string,
  maxSeconds: number,
  clock: HealthFacts['vendorClock'],
): Alert | undefined {
  // 0: the stream has not started (its lots are not registered yet, or the stream it follows has
  // read nothing): nothing is held back yet.
  if (s.readUpTo === null || s.readUpTo <= 0) return undefined;
  const lag = now - s.readUpTo;
  if (lag <= maxSeconds) return undefined;
  const behind =
    clock && clock.skewSeconds < 0
      ? `; the vendor's clock is ${duration(-clock.skewSeconds)} behind this host's, and the commit-lag guard reads only up to its now`
      : '';
  const gate = s.stream === 'departures' ? ', the departure gate (entrances behind or failed)' : '';
  return {
    alert: 'read-lag',
    lot: '',
    stream: s.stream,
    reason:
      `${s.stream} has read the vendor only up to ${when(s.readUpTo, zone)}, ${duration(lag)} ago ` +
      `(bound ${duration(maxSeconds)})${behind}. Causes: the commit-lag guard (vendor clock)${gate}, ` +
      'backpressure (ISP slow or down: delayed jobs in `status`), or polls failing (the stream’s last error). ' +
      'It clears when the stream has caught up',
  };
}

/** An event stream whose events take longer than the bound from their time to ISP. */
export function deliveryLatency(
  s: StreamHealthFacts,
  now: number,
  zone: string,
  settings: AlertSettings['deliveryLatency'],
): Alert | undefined {
  const waiting = s.oldestPending === null ? 0 : now - s.oldestPending;
  const latency = Math.max(s.recentLatencySeconds ?? 0, waiting);
  if (latency <= settings.maxSeconds) return undefined;
  const parts: string[] = [];
  if (s.recentLatencySeconds !== null && s.recentLatencySeconds > settings.maxSeconds)
    parts.push(
      `the slowest delivery of the last ${duration(settings.windowSeconds)} took ${duration(s.recentLatencySeconds)}`,
    );
  if (waiting > settings.maxSeconds && s.oldestPending !== null)
    parts.push(`an event of ${when(s.oldestPending, zone)} is still waiting to be delivered`);
  return {
    alert: 'delivery-latency',
    lot: '',
    stream: s.stream,
    reason:
      `${s.stream} events take ${duration(latency)} from their time to ISP (bound ${duration(settings.maxSeconds)}): ` +
      `${parts.join('; ')}. ISP slow or down (delayed jobs and the last error in \`status\`), or too few pushers for the traffic; ` +
      'it clears when live events go through within the bound',
  };
}

/** The zone's offset from UTC at `epochSeconds`, s. */
export function offsetAt(zone: string, epochSeconds: number): number {
  return DateTime.fromSeconds(epochSeconds, { zone }).offset * 60;
}

function when(epochSeconds: number, zone: string): string {
  return DateTime.fromSeconds(epochSeconds, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
}

/** `2 h 5 min`, `12 min`, `2 min 1 s`, `40 s`: the precision an operator reads. */
export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 90) return `${s} s`;
  if (s < 600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  const minutes = Math.round(s / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}
