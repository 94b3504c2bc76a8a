/** `status`: the facts of the status page, in the terminal (or as JSON with --json). */
import { Command } from 'commander';
import { DateTime } from 'luxon';
import type { Config } from '../config/index.js';
import { silentLogger } from '../log.js';
import { type RedisClient, scanKeys } from '../pipeline/redis-options.js';
import { createRuntime } from '../pipeline/runtime.js';
import { collectStatus } from '../pipeline/status.js';
import type { StatusSnapshot } from '../pipeline/status-types.js';
import { redactUrl } from '../redact.js';
import { assertRedisReachable } from './redis-reachable.js';
import {
  eachSource,
  groupedExitCode,
  problemJson,
  problemText,
  type ReadScope,
  type SourceRun,
  sourceHeading,
  sourcesToRead,
} from './source-scope.js';
import { formatTable } from './table.js';

export function statusCommand(): Command {
  return new Command('status')
    .description(
      'per stream: checkpoint, lag, deliveries, queue depths, failed and quarantined counts (reads only)',
    )
    .option('--json', 'print the /api/status JSON (with several sources: one object per source)')
    .option('--no-probe', 'do not contact ISP')
    .action(async (options: { json?: boolean; probe: boolean }) => {
      const scope = sourcesToRead();
      if (!scope.grouped) return statusOfOne(scope.configs[0]!, options);
      const url = scope.configs[0]?.redis.url;
      if (url) await assertRedisReachable(url, 'status has nothing to show without it.');
      const runs = await eachSource(scope, (config) => readStatus(config, options.probe));
      console.log(
        options.json ? JSON.stringify(groupedJson(scope, runs), null, 2) : groupedText(scope, runs),
      );
      process.exitCode = groupedExitCode(scope, runs);
    });
}

/** One source, as `status` showed it before sources: no heading, the snapshot itself as JSON. */
async function statusOfOne(config: Config, options: { json?: boolean; probe: boolean }): Promise<void> {
  // Redis first, with a client that does not retry: one clear line when it is away (the queue
  // clients made with the runtime would otherwise report every reconnect attempt).
  await assertRedisReachable(config.redis.url, 'status has nothing to show without it.');
  const rt = createRuntime(config, { logger: silentLogger, readOnly: true });
  try {
    const status = await collectStatus(rt, { probeIsp: options.probe });
    if (options.json) {
      console.log(JSON.stringify(status, null, 2));
      return;
    }
    if (nothingRan(status)) {
      const prefixes = await prefixesInRedis(rt.redis);
      console.log(
        `nothing has run with Redis prefix ${config.redis.prefix} at ${redactUrl(config.redis.url)}: no worker state, ` +
          `no deliveries. ${prefixes.length ? `Prefixes with worker state there: ${prefixes.join(', ')} (choose one with REDIS_PREFIX).` : 'No other prefix there holds worker state either.'}`,
      );
      return;
    }
    console.log(formatStatus(status, config.vendor.timeZone));
  } finally {
    await rt.close();
  }
}

async function readStatus(config: Config, probe: boolean): Promise<StatusSnapshot> {
  const rt = createRuntime(config, { logger: silentLogger, readOnly: true });
  try {
    return await collectStatus(rt, { probeIsp: probe });
  } finally {
    await rt.close();
  }
}

/** Every source under its heading; a source where nothing ran says so in one line. */
function groupedText(scope: ReadScope, runs: ReadonlyArray<SourceRun<StatusSnapshot>>): string {
  const parts = runs.map(({ config, ...run }) => {
    const body =
      'error' in run
        ? `status could not be read: ${run.error.message}`
        : nothingRan(run.result)
          ? 'nothing has run under this prefix yet: no worker state, no deliveries'
          : formatStatus(run.result, config.vendor.timeZone);
    return `${sourceHeading(config)}
${body}`;
  });
  return [...parts, ...scope.problems.map(problemText)].join('\n\n');
}

/** `{ sources: [{ source, redisPrefix, status } | { source, redisPrefix, error }] }`. */
function groupedJson(scope: ReadScope, runs: ReadonlyArray<SourceRun<StatusSnapshot>>) {
  return {
    sources: [
      ...runs.map(({ config, ...run }) => ({
        source: config.source.name,
        redisPrefix: config.redis.prefix,
        ...('error' in run ? { error: run.error.message } : { status: run.result }),
      })),
      ...scope.problems.map(problemJson),
    ],
  };
}

function nothingRan(status: StatusSnapshot): boolean {
  return !status.state.marker && !status.state.lost && nothingDelivered(status);
}

function nothingDelivered(status: StatusSnapshot): boolean {
  return status.streams.every(
    (s) => s.delivered.total === 0 && s.checkpoint === null && s.push.failed + s.push.waiting === 0,
  );
}

/**
 * Prefixes under which some worker keeps state (its marker or checkpoints). Reads only (SCAN, on
 * every master of a cluster); runs only when the configured prefix shows nothing.
 */
export async function prefixesInRedis(redis: RedisClient): Promise<string[]> {
  const found = new Set<string>();
  let rounds = 0;
  for await (const { keys } of scanKeys(redis, '*:state:*')) {
    for (const key of keys) {
      const m = /^(.*):state:(marker|checkpoints|activity:totals)$/.exec(key);
      if (m?.[1]) found.add(m[1]);
    }
    if (++rounds >= 10_000) break;
  }
  return [...found].sort();
}

export function formatStatus(status: StatusSnapshot, zone: string): string {
  const time = (s: number | null) =>
    s === null ? '-' : DateTime.fromSeconds(s, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
  const lines: string[] = [];
  for (const alert of status.alerts) lines.push(`! ${alert}`);
  for (const a of status.healthAlerts ?? [])
    lines.push(
      `! alert ${a.alert}${a.lot ? ` lot ${a.lot}` : ''}${a.stream ? ` ${a.stream}` : ''} since ${time(a.since)}: ${a.reason}`,
    );
  if (status.alerts.length || status.healthAlerts?.length) lines.push('');
  const reach =
    status.isp.reachable === null ? 'not probed' : status.isp.reachable ? 'reachable' : 'UNREACHABLE';
  const token = status.isp.token;
  const tokenText = token.valid
    ? `valid, expires in ${token.expiresInSeconds} s (${time(token.expiresAt)})`
    : token.expiresAt !== null
      ? `expired at ${time(token.expiresAt)} (a worker fetches a new one when it next sends)`
      : 'none recorded by a worker yet';
  lines.push(`ISP ${status.isp.baseUrl}: ${reach}; token ${tokenText}`);
  if (token.error) lines.push(`last token error at ${time(token.error.at)}: ${token.error.message}`);
  lines.push(`times in ${zone}; next full sync ${time(status.nextFullSync)}`);
  lines.push('');
  const header = [
    'stream',
    'read up to',
    'lag s',
    'last hour',
    'last day',
    'total',
    'waiting',
    'active',
    'delayed',
    'failed',
    'quarantined',
  ];
  const rows = status.streams.map((s) => [
    s.stream,
    time(s.readUpTo),
    s.lagSeconds === null ? '-' : String(s.lagSeconds),
    String(s.delivered.lastHour),
    String(s.delivered.lastDay),
    String(s.delivered.total),
    String(s.push.waiting),
    String(s.push.active),
    String(s.push.delayed),
    String(s.failed),
    String(s.quarantined),
  ]);
  lines.push(formatTable(header, rows));
  for (const s of status.streams) {
    if (s.idGaps)
      lines.push(
        `id gaps ${s.stream}: ${s.idGaps.open} open` +
          (s.idGaps.oldestSeconds !== null ? `, oldest first seen ${s.idGaps.oldestSeconds} s ago` : ''),
      );
    if (s.lastError)
      lines.push(
        `last error ${s.stream} at ${time(s.lastError.at)}: ${s.lastError.message}` +
          (s.lastError.recoveredAt !== null
            ? ` (recovered at ${time(s.lastError.recoveredAt)})`
            : ' (not recovered yet)'),
      );
  }
  if (status.vendorClock && Math.abs(status.vendorClock.skewSeconds) >= 2) {
    const s = status.vendorClock.skewSeconds;
    lines.push(
      `vendor clock ${Math.abs(s)} s ${s > 0 ? 'ahead of' : 'behind'} this host (measured ${time(status.vendorClock.at)}): future-time checks use the vendor's clock`,
    );
  }
  lines.push(...formatLotLifecycle(status.lotLifecycle, time));
  if (status.lots.length) {
    lines.push('');
    const lotHeader = ['lot', 'last entrance', 'last departure', 'last spot count (remain/total)', 'sent at'];
    const lotRows = status.lots.map((l) => [
      l.parkCode,
      time(l.lastEntrance),
      time(l.lastDeparture),
      l.lastSpotNum ? `${l.lastSpotNum.remain}/${l.lastSpotNum.total}` : '-',
      time(l.lastSpotNum?.at ?? null),
    ]);
    const lotWidths = lotHeader.map((h, i) => Math.max(h.length, ...lotRows.map((r) => r[i]!.length)));
    for (const row of [lotHeader, ...lotRows])
      lines.push(row.map((c, i) => c.padEnd(lotWidths[i]!)).join('  '));
  }
  return lines.join('\n');
}

/** What waits in the lots' lifecycle: the mass-deletion guard first, then DELETEs and held events. */
export function formatLotLifecycle(
  l: StatusSnapshot['lotLifecycle'],
  time: (s: number | null) => string,
): string[] {
  const lines = [
    '',
    `lots at ISP: ${l.registered} registered, ${l.deleted} deleted, ${l.pending} lot/count states to send, ${l.superseded} older states dropped as superseded`,
  ];
  if (l.deleteGuard) {
    lines.push(
      `MASS-DELETION GUARD since ${time(l.deleteGuard.at)}: nothing deleted. ${l.deleteGuard.reason}.`,
      `  would delete ${l.deleteGuard.wouldDelete} of ${l.deleteGuard.registered}: ${l.deleteGuard.codes.join(', ')}${l.deleteGuard.wouldDelete > l.deleteGuard.codes.length ? ', ...' : ''}`,
      '  if they really are gone: isp-park-sync full-sync --confirm-deletes; if not, fix the vendor database or its mapping',
    );
  }
  for (const w of l.deleteWaits) lines.push(`DELETE of lot ${w.parkCode} waits: ${w.reason}`);
  for (const h of l.held)
    lines.push(`${h.events} events of lot ${h.parkCode} held since ${time(h.since)}: ${h.reason}`);
  return lines;
}
