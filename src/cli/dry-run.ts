/**
 * `dry-run <stream>`: reads and transforms the next rows exactly as the worker would, and prints
 * the JSON it would send (photos fitted, then shortened for the terminal), plus why any row would
 * be quarantined. Pushes nothing, moves no checkpoint, writes nothing.
 */
import { Command } from 'commander';
import { loadConfig, STREAM_NAMES, type StreamName } from '../config/index.js';
import { silentLogger } from '../log.js';
import { recordsOfPage } from '../pipeline/events/page.js';
import { eventPollDeps } from '../pipeline/events/poll-deps.js';
import { eventPushDeps } from '../pipeline/events/push-deps.js';
import { lotPollDeps } from '../pipeline/lots/poll-deps.js';
import { probeRedis } from '../pipeline/reachability.js';
import { createRuntime, type Runtime } from '../pipeline/runtime.js';
import { isEventStream } from '../pipeline/streams.js';
import { redactForDisplay } from '../redact.js';

export function dryRunCommand(): Command {
  return new Command('dry-run')
    .description('read and transform without pushing or moving the checkpoint; print the exact JSON')
    .argument('<stream>', `one of ${STREAM_NAMES.join(', ')}`)
    .option('--limit <n>', 'rows to read (event streams)', (v) => Number.parseInt(v, 10), 10)
    .action(async (stream: string, options: { limit: number }) => {
      if (!(STREAM_NAMES as readonly string[]).includes(stream)) {
        throw new Error(`unknown stream "${stream}"; use one of ${STREAM_NAMES.join(', ')}`);
      }
      const config = loadConfig();
      // The checkpoint lives in Redis: say plainly when it is unreachable, before any client retries.
      await probeRedis(config.redis.url);
      const rt = createRuntime(config, { logger: silentLogger });
      try {
        const out = await dryRun(rt, stream as StreamName, options.limit);
        console.log(JSON.stringify(redactForDisplay(out), null, 2));
      } finally {
        await rt.close();
      }
    });
}

export async function dryRun(rt: Runtime, stream: StreamName, limit: number) {
  if (!isEventStream(stream)) {
    const deps = lotPollDeps(rt, stream);
    const rows = await deps.readAll();
    const outcomes = rows.slice(0, limit).map((row) => deps.transform(row));
    return {
      stream,
      rows: rows.length,
      payloads: outcomes.filter((o) => o.item && !o.deleted).map((o) => o.item!.payload),
      deleted: outcomes.filter((o) => o.deleted).map((o) => o.code),
      quarantine: outcomes
        .filter((o) => o.reasons)
        .map((o) => ({ vendorKey: o.row.vendorKey, reasons: o.reasons })),
    };
  }
  const poll = eventPollDeps(rt, stream);
  const after = await poll.getCheckpoint();
  const gate = poll.gateUpTo ? await poll.gateUpTo() : undefined;
  const page = await poll.readPage(after, limit, gate);
  const { records, rejected } = recordsOfPage(page.rows, poll.transform);
  const quarantine: Array<{ vendorKey: string; reasons: unknown[] }> = rejected.map(({ row, reasons }) => ({
    vendorKey: row.vendorKey,
    reasons,
  }));
  // Same photo fitting as a push, without sending: as on a job's last photo attempt, a photo that
  // may come back later is shown as the push would send it then.
  const push = eventPushDeps(rt, stream, {
    id: 'dry-run',
    attemptsMade: Number.POSITIVE_INFINITY,
    pending: false,
  });
  const prepared = records.length ? await push.prepare(records) : [];
  return {
    stream,
    after,
    rows: page.rows.length,
    payloads: prepared.flatMap((p) => (p.ok ? [JSON.parse(p.text) as Record<string, unknown>] : [])),
    quarantine: [
      ...quarantine,
      ...prepared.flatMap((p) =>
        !p.ok && 'reason' in p ? [{ vendorKey: p.record.vendorKey, reasons: [p.reason] }] : [],
      ),
    ],
    held: prepared.flatMap((p) =>
      !p.ok && 'hold' in p ? [{ vendorKey: p.record.vendorKey, ...p.hold }] : [],
    ),
  };
}
