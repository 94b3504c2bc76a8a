/**
 * `quarantine list|show|retry`: the rows that could not become a valid payload. `list` shows them
 * newest first with counts and reasons, `show` one row as the vendor gave it, `retry` re-drives rows
 * after the operator fixed the config (or the vendor data): an event row is transformed again with
 * the CURRENT config and its photo checked again; if it is good now a push job is enqueued and the
 * entry removed, otherwise it stays with the new reasons. Lots and spot counts are simply released:
 * the next poll reads the whole table again.
 *
 * Reads and writes only our quarantine entries and the push queues (src/state/quarantine.ts); never
 * writes to the vendor database.
 */
import { Command, InvalidArgumentError } from 'commander';
import { DateTime } from 'luxon';
import { type Config, type EventStreamName, STREAM_NAMES, type StreamName } from '../config/index.js';
import { silentLogger } from '../log.js';
import { eventPushDeps } from '../pipeline/events/push-deps.js';
import type { RowOutcome } from '../pipeline/events/records.js';
import { enqueuePush, pushJobIds } from '../pipeline/push-queue.js';
import { createRuntime, type Runtime } from '../pipeline/runtime.js';
import {
  EVENT_STREAMS,
  type EventRow,
  isEventStream,
  LOT_STREAMS,
  type LotStreamName,
} from '../pipeline/streams.js';
import { redactForDisplay } from '../redact.js';
import type { QuarantineEntry, QuarantineReasonLike } from '../state/quarantine.js';
import { oneLine } from './args.js';
import {
  configToChange,
  eachSource,
  groupedExitCode,
  problemJson,
  problemText,
  sourceHeading,
  sourcesToRead,
} from './source-scope.js';
import { formatTable } from './table.js';

export function quarantineCommand(): Command {
  const cmd = new Command('quarantine').description(
    'rows that could not become a valid payload: list them, show one, retry after fixing the config',
  );

  cmd
    .command('list')
    .description('quarantined rows, newest first, with counts and reasons')
    .option('--stream <stream>', `only this stream (${STREAM_NAMES.join(', ')})`, asStream)
    .option('--limit <n>', 'rows to show', asCount, 20)
    .option('--json', 'print JSON')
    .action(async (flags: ListFlags) => {
      const scope = sourcesToRead();
      if (!scope.grouped) {
        await withRuntime(scope.configs[0]!, async (rt) => {
          const list = await readList(rt, flags);
          if (flags.json) {
            console.log(JSON.stringify(listJson(list), null, 2));
            return;
          }
          console.log(listText(list, flags, rt.config.vendor.timeZone).join('\n'));
          if (list.page.total > 0)
            console.log(
              'show one: quarantine show <id>; after fixing the config: quarantine retry <id>|--stream s|--all',
            );
        });
        return;
      }
      const runs = await eachSource(scope, (config) =>
        withRuntime(config, (rt) => readList(rt, flags), { readOnly: true }),
      );
      process.exitCode = groupedExitCode(scope, runs);
      if (flags.json) {
        const sources = runs.map(({ config, ...run }) => ({
          source: config.source.name,
          redisPrefix: config.redis.prefix,
          ...('error' in run ? { error: run.error.message } : listJson(run.result, config.source.name)),
        }));
        console.log(JSON.stringify({ sources: [...sources, ...scope.problems.map(problemJson)] }, null, 2));
        return;
      }
      const parts = runs.map(({ config, ...run }) =>
        [
          sourceHeading(config),
          ...('error' in run
            ? [`the quarantine could not be read: ${run.error.message}`]
            : listText(run.result, flags, config.vendor.timeZone)),
        ].join('\n'),
      );
      console.log([...parts, ...scope.problems.map(problemText)].join('\n\n'));
      const some = runs.find((r) => 'result' in r && r.result.page.total > 0);
      if (some)
        console.log(
          `\nshow one: --source <name> quarantine show <id> (e.g. isp-park-sync --source ${some.config.source.name} ` +
            'quarantine show <id>); after fixing the config: --source <name> quarantine retry <id>|--stream s|--all',
        );
    });

  cmd
    .command('show')
    .description('one quarantined row: the raw vendor row and the reasons')
    .argument('<id>', 'entry id as listed, e.g. entrances:1234')
    .action(async (id: string) => {
      await withRuntime(configToChange('quarantine show'), async (rt) => {
        const entry = await rt.quarantine.get(id);
        if (!entry) throw new Error(`no quarantined row "${id}" (see \`quarantine list\`)`);
        console.log(JSON.stringify(redactForDisplay({ ...summary(entry), row: entry.row }), null, 2));
      });
    });

  cmd
    .command('retry')
    .description('re-drive rows with the current config: good now -> pushed and removed; still bad -> kept')
    .argument('[ids...]', 'entry ids as listed')
    .option('--stream <stream>', 'every row of this stream (up to --limit)', asStream)
    .option('--all', 'every row of every stream (up to --limit)')
    .option('--limit <n>', 'rows at most with --stream/--all', asCount, 1000)
    .addHelpText(
      'after',
      '\nRun the worker with the same, fixed config: the push jobs made here are carried out by it.',
    )
    .action(async (ids: string[], flags: { stream?: StreamName; all?: boolean; limit: number }) => {
      if (ids.length === 0 && !flags.stream && !flags.all)
        throw new Error('name entry ids, or --stream <stream>, or --all');
      await withRuntime(configToChange('quarantine retry'), async (rt) => {
        const chosen = ids.length ? ids : await idsOf(rt, flags.all ? undefined : flags.stream, flags.limit);
        const outcomes = await retryQuarantined(rt, chosen);
        for (const o of outcomes) console.log(formatOutcome(o));
        const n = (r: RetryOutcome['result']) => outcomes.filter((o) => o.result === r).length;
        console.log(
          `requeued ${n('requeued')}, already delivered ${n('already-delivered')}, released ${n('released')}, ` +
            `still bad ${n('still-bad')}, not found ${n('missing')}`,
        );
      });
    });
  return cmd;
}

export type RetryOutcome =
  | { id: string; result: 'requeued'; jobId: string }
  | { id: string; result: 'still-bad'; reasons: QuarantineReasonLike[] }
  | { id: string; result: 'already-delivered' }
  | { id: string; result: 'released'; wouldFail?: QuarantineReasonLike[] }
  | { id: string; result: 'missing' };

/** Re-drives quarantined rows one by one (see the top comment). */
export async function retryQuarantined(rt: Runtime, ids: readonly string[]): Promise<RetryOutcome[]> {
  const outcomes: RetryOutcome[] = [];
  for (const id of ids) {
    const entry = await rt.quarantine.get(id);
    if (!entry) {
      outcomes.push({ id, result: 'missing' });
      continue;
    }
    const stream = entry.stream;
    outcomes.push(
      isEventStream(stream) ? await redriveEvent(rt, entry, stream) : await releaseLot(rt, entry, stream),
    );
  }
  return outcomes;
}

async function releaseLot(rt: Runtime, entry: QuarantineEntry, stream: LotStreamName): Promise<RetryOutcome> {
  // Only to tell the operator: the poll decides again when it reads the lot.
  const row = (entry.row ?? {}) as Record<string, unknown>;
  const check = LOT_STREAMS[stream].toItem({ ...row, vendorKey: entry.vendorKey }, rt.transform);
  await rt.quarantine.remove(entry.id);
  return check.reasons?.length
    ? { id: entry.id, result: 'released', wouldFail: check.reasons }
    : { id: entry.id, result: 'released' };
}

async function redriveEvent(
  rt: Runtime,
  entry: QuarantineEntry,
  stream: EventStreamName,
): Promise<RetryOutcome> {
  const built = recordOf(rt, stream, entry);
  if (!built.ok) return keep(rt, entry, built.reasons);
  const record = built.record;
  const [seen] = await rt.ledgers[stream].delivered([record]);
  if (seen) {
    await rt.quarantine.remove(entry.id);
    return { id: entry.id, result: 'already-delivered' };
  }
  // The photo as the push would judge it on its last attempt (a photo that may come back counts as back).
  const push = eventPushDeps(rt, stream, {
    id: 'quarantine',
    attemptsMade: Number.POSITIVE_INFINITY,
    pending: false,
  });
  const [prepared] = await push.prepare([record]);
  // A lot ISP does not know yet is no reason to keep the row here: the push holds it for its lot.
  if (prepared && !prepared.ok && 'reason' in prepared) return keep(rt, entry, [prepared.reason]);
  const jobId = pushJobIds.quarantine(stream, entry.vendorKey, entry.at);
  await enqueuePush(rt.queues.push, stream, 'quarantine', [
    { id: jobId, data: { kind: 'events', stream, records: [record] } },
  ]);
  // Removed only once the job exists: a crash in between leaves the entry, never loses the row.
  await rt.quarantine.remove(entry.id);
  return { id: entry.id, result: 'requeued', jobId };
}

async function keep(
  rt: Runtime,
  entry: QuarantineEntry,
  reasons: QuarantineReasonLike[],
): Promise<RetryOutcome> {
  await rt.quarantine.add({ stream: entry.stream, vendorKey: entry.vendorKey, reasons, row: entry.row });
  return { id: entry.id, result: 'still-bad', reasons };
}

/**
 * The push record of an entry. A row quarantined by the poll is the vendor's raw row: transformed
 * again. A row quarantined at push time (its photo) is kept as `{ pushDraft }`, the payload without
 * its photo, already transformed: only the photo is judged again.
 */
function recordOf(rt: Runtime, stream: EventStreamName, entry: QuarantineEntry): RowOutcome {
  const row = (entry.row ?? {}) as Record<string, unknown>;
  const def = EVENT_STREAMS[stream];
  if (row.pushDraft && typeof row.pushDraft === 'object')
    return def.draftRecord(row.pushDraft, entry.vendorKey);
  // The vendor's row as the poll read it (kept whole in the quarantine).
  return def.toRecord({ ...(row as EventRow), vendorKey: entry.vendorKey }, rt.transform);
}

async function idsOf(rt: Runtime, stream: StreamName | undefined, limit: number): Promise<string[]> {
  const ids: string[] = [];
  for (let offset = 0; ids.length < limit; offset += 500) {
    const page = await rt.quarantine.list({ stream, limit: Math.min(500, limit - ids.length), offset });
    ids.push(...page.entries.map((e) => e.id));
    if (page.entries.length === 0 || offset + page.entries.length >= page.total) break;
  }
  return ids;
}

interface ListFlags {
  stream?: StreamName;
  limit: number;
  json?: boolean;
}

interface QuarantineList {
  counts: Record<StreamName, number>;
  page: { total: number; entries: QuarantineEntry[] };
}

async function readList(rt: Runtime, flags: ListFlags): Promise<QuarantineList> {
  const counts = await rt.quarantine.counts();
  const page = await rt.quarantine.list({ stream: flags.stream, limit: flags.limit });
  return { counts, page };
}

/** `source`: in a grouped output, each entry says whose it is. */
function listJson({ counts, page }: QuarantineList, source?: string) {
  return {
    counts,
    total: page.total,
    entries: page.entries.map((e) => (source ? { source, ...summary(e) } : summary(e))),
  };
}

function listText({ counts, page }: QuarantineList, flags: ListFlags, zone: string): string[] {
  const lines = [
    `quarantined: ${STREAM_NAMES.map((s) => `${s} ${counts[s]}`).join(', ')}` +
      (flags.stream ? ` (showing ${flags.stream})` : ''),
  ];
  if (page.total === 0) return lines;
  lines.push(formatEntries(page.entries, zone));
  if (page.total > page.entries.length)
    lines.push(`... ${page.total - page.entries.length} older not shown (--limit)`);
  return lines;
}

/** `readOnly`: the queue objects write nothing (a listing of a source where nothing ran leaves no key). */
async function withRuntime<T>(
  config: Config,
  fn: (rt: Runtime) => Promise<T>,
  options: { readOnly?: boolean } = {},
): Promise<T> {
  const rt = createRuntime(config, { logger: silentLogger, readOnly: options.readOnly === true });
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

function summary(e: QuarantineEntry) {
  return {
    id: e.id,
    stream: e.stream,
    vendorKey: e.vendorKey,
    at: e.at,
    firstAt: e.firstAt,
    count: e.count,
    reasons: e.reasons,
  };
}

export function formatEntries(entries: readonly QuarantineEntry[], zone: string): string {
  const time = (ms: number) => DateTime.fromMillis(ms, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
  const header = ['id', 'last at', 'times', 'reasons'];
  const rows = entries.map((e) => [
    e.id,
    time(e.at),
    String(e.count),
    e.reasons.map((r) => `${r.code}: ${oneLine(r.message, 80)}`).join('; ') || '-',
  ]);
  return formatTable(header, rows);
}

function formatOutcome(o: RetryOutcome): string {
  switch (o.result) {
    case 'requeued':
      return `${o.id}: good now, push job ${o.jobId} enqueued`;
    case 'already-delivered':
      return `${o.id}: ISP already has it (ledger), removed`;
    case 'released':
      return (
        `${o.id}: released; the next poll reads the lot again` +
        (o.wouldFail
          ? ` (with this config it would still fail: ${o.wouldFail.map((r) => r.code).join(', ')})`
          : '')
      );
    case 'still-bad':
      return `${o.id}: still bad, kept: ${o.reasons.map((r) => `${r.code}: ${oneLine(r.message, 100)}`).join('; ')}`;
    case 'missing':
      return `${o.id}: not in the quarantine`;
  }
}

function asStream(value: string): StreamName {
  if (!(STREAM_NAMES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`unknown stream "${value}"; use one of ${STREAM_NAMES.join(', ')}`);
  return value as StreamName;
}

function asCount(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return Number(value);
}
