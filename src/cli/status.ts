/** `status`: the facts of the status page, in the terminal (or as JSON with --json). */
import { Command } from 'commander';
import { DateTime } from 'luxon';
import { loadConfig } from '../config/index.js';
import { silentLogger } from '../log.js';
import { createRuntime } from '../pipeline/runtime.js';
import { collectStatus } from '../pipeline/status.js';
import type { StatusSnapshot } from '../pipeline/status-types.js';
import { formatTable } from './table.js';

export function statusCommand(): Command {
  return new Command('status')
    .description('per stream: checkpoint, lag, deliveries, queue depths, failed and quarantined counts')
    .option('--json', 'print the /api/status JSON')
    .option('--no-probe', 'do not contact ISP')
    .action(async (options: { json?: boolean; probe: boolean }) => {
      const config = loadConfig();
      const rt = createRuntime(config, { logger: silentLogger });
      try {
        const status = await collectStatus(rt, { probeIsp: options.probe });
        console.log(
          options.json ? JSON.stringify(status, null, 2) : formatStatus(status, config.vendor.timeZone),
        );
      } finally {
        await rt.close();
      }
    });
}

export function formatStatus(status: StatusSnapshot, zone: string): string {
  const time = (s: number | null) =>
    s === null ? '-' : DateTime.fromSeconds(s, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
  const lines: string[] = [];
  const reach =
    status.isp.reachable === null ? 'not probed' : status.isp.reachable ? 'reachable' : 'UNREACHABLE';
  lines.push(
    `ISP ${status.isp.baseUrl}: ${reach}; token ${status.isp.token.valid ? `valid until ${time(status.isp.token.expiresAt)}` : 'none'}`,
  );
  lines.push(`times in ${zone}; next full sync ${time(status.nextFullSync)}`);
  lines.push('');
  const header = [
    'stream',
    'read up to',
    'lag s',
    'last hour',
    'last day',
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
    String(s.push.waiting),
    String(s.push.active),
    String(s.push.delayed),
    String(s.failed),
    String(s.quarantined),
  ]);
  lines.push(formatTable(header, rows));
  for (const s of status.streams) {
    if (s.lastError) lines.push(`last error ${s.stream} at ${time(s.lastError.at)}: ${s.lastError.message}`);
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
