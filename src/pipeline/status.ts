/**
 * Collects the status facts (src/pipeline/status-types.ts) from Redis and BullMQ, and probes ISP's
 * reachability when asked. Reads only (no key is written: the token state is what the workers
 * recorded, not this process's own client); cheap enough to call on every page view.
 */
import { createRequire } from 'node:module';
import { STREAM_NAMES, type StreamName } from '../config/index.js';
import { redactUrl } from '../redact.js';
import type { LotHealthStore } from '../state/lot-health.js';
import { StateMarkerStore } from '../state/state-marker.js';
import { cursorEpoch } from './events/poll-deps.js';
import { reconcileGrid, reconcileResults } from './reconcile/nightly.js';
import { nightTotals, recentDays } from './report/recent-days.js';
import type { Runtime } from './runtime.js';
import { missingSchedules, nextFullSync } from './schedules.js';
import { lossAdvice } from './state-guard.js';
import type {
  HealthAlertStatus,
  LotLifecycleStatus,
  QueueCounts,
  StatusSnapshot,
  StreamStatus,
} from './status-types.js';
import { isEventStream } from './streams.js';

const CHART_HOURS = 6;
export const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export async function collectStatus(
  rt: Runtime,
  options: { probeIsp?: boolean; nowMs?: number } = {},
): Promise<StatusSnapshot> {
  const nowMs = options.nowMs ?? Date.now();
  const now = Math.floor(nowMs / 1000);
  const quarantined = await rt.quarantine.counts();
  const totals = await rt.activity.totals();
  const streams: StreamStatus[] = [];
  for (const stream of STREAM_NAMES) streams.push(await streamStatus(rt, stream, nowMs, quarantined, totals));

  const perStream = await Promise.all(
    STREAM_NAMES.map((s) => rt.activity.perMinute(s, nowMs - CHART_HOURS * 3600_000, nowMs)),
  );
  const deliveredPerMinute = perStream[0]!.map((m, i) => ({
    minute: m.minute,
    count: perStream.reduce((sum, series) => sum + (series[i]?.count ?? 0), 0),
  }));
  let reachable: boolean | null = null;
  try {
    if (options.probeIsp) reachable = await rt.isp.ping().catch(() => false);
  } catch {
    // No ISP credentials in this process's config: not probed.
  }
  const recorded = await rt.tokenRecord.get();
  const expiresAt = recorded?.expiresAt ?? null;
  const valid = expiresAt !== null && expiresAt > nowMs;
  const next = await nextFullSync(rt.queues).catch(() => undefined);
  const { marker, lost } = await new StateMarkerStore(rt.redis, rt.config.redis.prefix).read();
  const zone = rt.config.vendor.timeZone;
  const alerts: string[] = [];
  if (lost) alerts.push(`STATE LOST: ${lost.reason}. ${lossAdvice(lost, zone)}`);
  const warnAt = rt.config.pipeline.failedWarnAt;
  for (const s of streams) {
    if (s.failed > warnAt)
      alerts.push(
        `${s.stream}: ${s.failed} failed push jobs (more than ${warnAt}): events waiting for an operator; read why ` +
          'with `replay --list`, fix the cause, then `replay` (or `replay --discard --reason …` for what must never be sent)',
      );
  }
  if (marker && !lost) {
    const missing = await missingSchedules(rt.queues);
    if (missing.length)
      alerts.push(
        `job schedulers missing: ${missing.join(', ')}; a worker with the scheduler role re-creates them ` +
          `within ${Math.round(rt.config.pipeline.stateCheckEveryMs / 1000)} s; if none runs, start one`,
      );
  }
  const reconcile = reconcileGrid(await reconcileResults(rt).recent(rt.config.reconcile.pageDays));
  const night = reconcile.latest;
  if (night && !night.complete) {
    const n = night.missingByStream.entrances + night.missingByStream.departures;
    alerts.push(
      `nightly reconcile of ${night.day}: ${n} event(s) the vendor recorded are missing at ISP; ` +
        `\`isp-park-sync reconcile --date ${night.day}\` lists them, \`--repair\` sends them`,
    );
  }
  return {
    generatedAt: now,
    version,
    isp: {
      baseUrl: redactUrl(rt.config.isp.baseUrl),
      reachable,
      token: {
        valid,
        expiresAt: expiresAt === null ? null : Math.floor(expiresAt / 1000),
        expiresInSeconds: valid ? Math.floor((expiresAt - nowMs) / 1000) : null,
        error: recorded?.error
          ? { at: Math.floor(recorded.error.at / 1000), message: recorded.error.message }
          : null,
      },
    },
    timeZone: zone,
    state: {
      marker: marker !== null,
      lost: lost
        ? { at: Math.floor(lost.at / 1000), reason: lost.reason, advice: lossAdvice(lost, zone) }
        : null,
    },
    alerts,
    healthAlerts: await activeHealthAlerts(rt.health),
    streams,
    lots: (await rt.activity.lots()).map((lot) => ({
      parkCode: lot.parkCode,
      lastEntrance: lot.lastEntrance ?? null,
      lastDeparture: lot.lastDeparture ?? null,
      lastSpotNum: lot.lastSpotNum ?? null,
    })),
    lotLifecycle: await lotLifecycle(rt),
    vendorClock: await rt.activity
      .vendorClock()
      .then((c) => (c ? { skewSeconds: Math.round(c.skewMs / 1000), at: c.at } : null)),
    deliveredPerMinute,
    chartHours: CHART_HOURS,
    recentDays: await recentDays(rt, nowMs, nightTotals(reconcile)),
    nextFullSync: next ? Math.floor(next / 1000) : null,
    reconcile,
  };
}

async function streamStatus(
  rt: Runtime,
  stream: StreamName,
  nowMs: number,
  quarantined: Record<string, number>,
  totals: Record<string, number>,
): Promise<StreamStatus> {
  const counts = await rt.queues.push[stream].getJobCounts(
    'waiting',
    'active',
    'delayed',
    'failed',
    'completed',
    'prioritized',
  );
  const push: QueueCounts = {
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    failed: counts.failed ?? 0,
    completed: counts.completed ?? 0,
  };
  const checkpoint = isEventStream(stream) ? await rt.checkpoints.get(stream) : null;
  let readUpTo = (await rt.progress.caughtUp(stream)) ?? null;
  // Before its first poll since an upgrade, an event stream has read up to its checkpoint.
  if (readUpTo === null && checkpoint && isEventStream(stream))
    readUpTo = cursorEpoch(rt, stream, checkpoint) ?? null;
  const error = await rt.activity.lastError(stream);
  const lastError = error
    ? { at: error.at, message: error.message, recoveredAt: error.recoveredAt ?? null }
    : null;
  return {
    stream,
    checkpoint: checkpoint ? { time: checkpoint.time, id: checkpoint.id } : null,
    readUpTo,
    // Whole seconds: read-up-to times carry milliseconds.
    lagSeconds: readUpTo === null ? null : Math.max(0, Math.round(nowMs / 1000 - readUpTo)),
    delivered: {
      lastHour: await rt.activity.deliveredSince(stream, nowMs - 3600_000, nowMs),
      lastDay: await rt.activity.deliveredSince(stream, nowMs - 86_400_000, nowMs),
      total: totals[stream] ?? 0,
    },
    lastError,
    push,
    failed: push.failed,
    quarantined: quarantined[stream] ?? 0,
    idGaps: await idGapsStatus(rt, stream, nowMs),
  };
}

async function idGapsStatus(rt: Runtime, stream: StreamName, nowMs: number): Promise<StreamStatus['idGaps']> {
  if (!isEventStream(stream) || !rt.config.streams[stream].probeIdGaps) return null;
  return idGapsView(await rt.idGaps[stream].summary(), nowMs);
}

/** A stream's id gaps as the status shows them: the oldest's age in whole seconds. */
export function idGapsView(
  gaps: { open: number; oldestFirstSeenMs: number | null },
  nowMs: number,
): NonNullable<StreamStatus['idGaps']> {
  return {
    open: gaps.open,
    oldestSeconds:
      gaps.oldestFirstSeenMs === null
        ? null
        : Math.max(0, Math.round((nowMs - gaps.oldestFirstSeenMs) / 1000)),
  };
}

async function lotLifecycle(rt: Runtime): Promise<LotLifecycleStatus> {
  const [parks, spotNums, waits, held, guard] = await Promise.all([
    rt.lotChanges.counts('parks'),
    rt.lotChanges.counts('spotNums'),
    rt.lotChanges.deleteWaits('parks'),
    rt.holds.lots(),
    rt.lotChanges.guard('parks'),
  ]);
  return {
    registered: parks.delivered,
    pending: parks.pending + spotNums.pending,
    deleted: parks.deleted,
    superseded: parks.superseded + spotNums.superseded,
    deleteWaits: [...waits].map(([parkCode, reason]) => ({ parkCode, reason })),
    held: held.map((h) => ({
      parkCode: h.code,
      events: h.count,
      reason: h.reason,
      since: Math.floor(h.since / 1000),
    })),
    deleteGuard: guard
      ? {
          at: Math.floor(guard.at / 1000),
          wouldDelete: guard.wouldDelete,
          registered: guard.registered,
          reason: guard.reason,
          codes: guard.codes,
        }
      : null,
  };
}

/** The lot health alerts active now, oldest first (what the last evaluation left in Redis). */
export async function activeHealthAlerts(
  store: Pick<LotHealthStore, 'active'>,
): Promise<HealthAlertStatus[]> {
  return [...(await store.active()).values()]
    .sort((a, b) => a.since - b.since || (a.id < b.id ? -1 : 1))
    .map(({ alert, lot, stream, reason, since }) => ({ alert, lot, stream, reason, since }));
}
