/**
 * Collects the status facts (src/pipeline/status-types.ts) from Redis, BullMQ and the ISP client.
 * Reads only; cheap enough to call on every page view.
 */
import { createRequire } from 'node:module';
import { STREAM_NAMES, type StreamName } from '../config/index.js';
import { redactUrl } from '../redact.js';
import { cursorEpoch } from './events/poll-deps.js';
import type { Runtime } from './runtime.js';
import { nextFullSync } from './schedules.js';
import type { LotLifecycleStatus, QueueCounts, StatusSnapshot, StreamStatus } from './status-types.js';
import { isEventStream } from './streams.js';

const CHART_HOURS = 6;
const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export async function collectStatus(
  rt: Runtime,
  options: { probeIsp?: boolean; nowMs?: number } = {},
): Promise<StatusSnapshot> {
  const nowMs = options.nowMs ?? Date.now();
  const now = Math.floor(nowMs / 1000);
  const quarantined = await rt.quarantine.counts();
  const streams: StreamStatus[] = [];
  for (const stream of STREAM_NAMES) streams.push(await streamStatus(rt, stream, now, nowMs, quarantined));

  const perStream = await Promise.all(
    STREAM_NAMES.map((s) => rt.activity.perMinute(s, nowMs - CHART_HOURS * 3600_000, nowMs)),
  );
  const deliveredPerMinute = perStream[0]!.map((m, i) => ({
    minute: m.minute,
    count: perStream.reduce((sum, series) => sum + (series[i]?.count ?? 0), 0),
  }));
  let token: { valid: boolean; expiresAt?: number } = { valid: false };
  let reachable: boolean | null = null;
  try {
    token = rt.isp.tokenState();
    if (options.probeIsp) reachable = await rt.isp.ping().catch(() => false);
  } catch {
    // No ISP credentials in this process's config: nothing to report about the token.
  }
  const next = await nextFullSync(rt.queues).catch(() => undefined);
  return {
    generatedAt: now,
    version,
    isp: {
      baseUrl: redactUrl(rt.config.isp.baseUrl),
      reachable,
      token: { valid: token.valid, expiresAt: token.expiresAt ? Math.floor(token.expiresAt / 1000) : null },
    },
    streams,
    lots: (await rt.activity.lots()).map((lot) => ({
      parkCode: lot.parkCode,
      lastEntrance: lot.lastEntrance ?? null,
      lastDeparture: lot.lastDeparture ?? null,
      lastSpotNum: lot.lastSpotNum ?? null,
    })),
    lotLifecycle: await lotLifecycle(rt),
    deliveredPerMinute,
    chartHours: CHART_HOURS,
    nextFullSync: next ? Math.floor(next / 1000) : null,
  };
}

async function streamStatus(
  rt: Runtime,
  stream: StreamName,
  now: number,
  nowMs: number,
  quarantined: Record<string, number>,
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
  const lastError = (await rt.activity.lastError(stream)) ?? null;
  return {
    stream,
    checkpoint: checkpoint ? { time: checkpoint.time, id: checkpoint.id } : null,
    readUpTo,
    lagSeconds: readUpTo === null ? null : Math.max(0, now - readUpTo),
    delivered: {
      lastHour: await rt.activity.deliveredSince(stream, nowMs - 3600_000, nowMs),
      lastDay: await rt.activity.deliveredSince(stream, nowMs - 86_400_000, nowMs),
    },
    lastError,
    push,
    failed: push.failed,
    quarantined: quarantined[stream] ?? 0,
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
