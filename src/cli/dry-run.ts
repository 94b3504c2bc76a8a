/**
 * `dry-run <stream>`: reads and transforms the next rows exactly as the worker would, and prints
 * the JSON it would send (photos fitted, then shortened for the terminal), plus why any row would
 * be quarantined. Pushes nothing, moves no checkpoint, writes nothing. With several sources every
 * one is read (`{"sources": [{source, dryRun} | {source, error}]}`, exit 1 if any failed or is
 * invalid); `--source` prints that one's alone.
 */
import { Command } from 'commander';
import { DateTime } from 'luxon';
import { type Config, STREAM_NAMES, type StreamName } from '../config/index.js';
import { recordString } from '../isp/index.js';
import { silentLogger } from '../log.js';
import { recordsOfPage } from '../pipeline/events/page.js';
import { GATE_NOT_STARTED } from '../pipeline/events/poll.js';
import { eventPollDeps } from '../pipeline/events/poll-deps.js';
import { eventPushDeps } from '../pipeline/events/push-deps.js';
import { lotPollDeps } from '../pipeline/lots/poll-deps.js';
import { createRuntime, type Runtime } from '../pipeline/runtime.js';
import { EVENT_STREAMS, isEventStream } from '../pipeline/streams.js';
import { redactForDisplay } from '../redact.js';
import { positiveWhole } from './args.js';
import { assertRedisReachable } from './redis-reachable.js';
import { eachSource, groupedExitCode, problemJson, sourcesToRead } from './source-scope.js';

export function dryRunCommand(): Command {
  return new Command('dry-run')
    .description('read and transform without pushing or moving the checkpoint; print the exact JSON')
    .argument('<stream>', `one of ${STREAM_NAMES.join(', ')}`)
    .option('--limit <n>', 'rows to read (event streams; lot streams are read whole)', positiveWhole, 10)
    .action(async (stream: string, options: { limit: number }) => {
      if (!(STREAM_NAMES as readonly string[]).includes(stream)) {
        throw new Error(`unknown stream "${stream}"; use one of ${STREAM_NAMES.join(', ')}`);
      }
      const scope = sourcesToRead();
      const read = (config: Config) => dryRunOf(config, stream as StreamName, options.limit);
      if (!scope.grouped) {
        console.log(JSON.stringify(redactForDisplay(await read(scope.configs[0]!)), null, 2));
        return;
      }
      const runs = await eachSource(scope, read);
      const sources = [
        ...runs.map((run) =>
          'result' in run
            ? { source: run.config.source.name, dryRun: run.result }
            : { source: run.config.source.name, error: run.error.message },
        ),
        ...scope.problems.map(problemJson),
      ];
      console.log(JSON.stringify(redactForDisplay({ sources }), null, 2));
      process.exitCode = groupedExitCode(scope, runs);
    });
}

async function dryRunOf(config: Config, stream: StreamName, limit: number) {
  await assertRedisReachable(
    config.redis.url,
    'dry-run reads the checkpoints and the delivered-key ledger from it.',
  );
  const rt = createRuntime(config, { logger: silentLogger, readOnly: true });
  try {
    return await dryRun(rt, stream, limit);
  } finally {
    await rt.close();
  }
}

export async function dryRun(rt: Runtime, stream: StreamName, limit: number) {
  if (!isEventStream(stream)) {
    const deps = lotPollDeps(rt, stream);
    const rows = await deps.readAll();
    // A lot table is read whole by the poll, so it is shown whole: --limit is for event streams.
    const outcomes = rows.map((row) => deps.transform(row));
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
  const poll = eventPollDeps(rt, stream, { lotsFirst: false });
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
  const held =
    gate !== undefined && page.rows.length < limit
      ? gate === GATE_NOT_STARTED
        ? `${stream} are held back by the ${EVENT_STREAMS[stream].follows ?? 'entrance'} gate: that stream has read nothing yet, ` +
          'and a departure never goes before its entrance'
        : `${stream} are read only up to ${DateTime.fromSeconds(gate, { zone: rt.config.vendor.timeZone }).toFormat('yyyy-MM-dd HH:mm:ss')} ` +
          `(${rt.config.vendor.timeZone}), the time before which every ${EVENT_STREAMS[stream].follows ?? 'entrance'} is settled: ` +
          'later rows wait until the entrances before them are delivered'
      : undefined;
  return {
    stream,
    after,
    rows: page.rows.length,
    ...(held ? { heldBack: held } : {}),
    payloads: prepared.flatMap((p) =>
      p.ok ? [JSON.parse(recordString(p.text)) as Record<string, unknown>] : [],
    ),
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
