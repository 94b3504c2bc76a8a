/**
 * `reconcile`: per lot and day (vendor zone), did ISP receive every entrance and departure the
 * vendor recorded? Prints a table (or JSON) and every missing event's natural key; `--repair`
 * enqueues exactly those. Exit 0: complete; 1: something is missing; 2: the question was wrong
 * (a day outside the retained window, an unknown lot). The work is src/pipeline/reconcile/.
 */
import { Command } from 'commander';
import { DateTime } from 'luxon';
import type { Config } from '../config/index.js';
import { silentLogger } from '../log.js';
import { waitForJobs } from '../pipeline/follow-jobs.js';
import { dayOf, previousDay, ReconcileDayError } from '../pipeline/reconcile/days.js';
import { UnknownLotError } from '../pipeline/reconcile/lot-names.js';
import { reconcileDays } from '../pipeline/reconcile/reconcile.js';
import { reconcileDeps } from '../pipeline/reconcile/reconcile-deps.js';
import { type RepairResult, repairMissing } from '../pipeline/reconcile/repair.js';
import type { ReconcileQuery, ReconcileReport } from '../pipeline/reconcile/types.js';
import { createRuntime, type Runtime } from '../pipeline/runtime.js';
import { assertRedisReachable } from './redis-reachable.js';
import {
  configToChange,
  eachSource,
  problemJson,
  problemText,
  type ReadScope,
  sourceHeading,
  sourcesToRead,
} from './source-scope.js';
import { formatTable } from './table.js';

interface ReconcileFlags {
  date?: string;
  from?: string;
  to?: string;
  lot?: string;
  json?: boolean;
  repair?: boolean;
  wait?: boolean;
}

/** Exit codes, for cron. */
export const EXIT_COMPLETE = 0;
export const EXIT_MISSING = 1;
export const EXIT_BAD_INPUT = 2;

/** Missing keys printed in the table output (all of them with --json). */
const MISSING_PRINTED = 200;

export function reconcileCommand(): Command {
  return new Command('reconcile')
    .description(
      'per lot and day: entrances and departures the vendor recorded against what ISP received; the keys of what is missing',
    )
    .option('--date <day>', 'one day, yyyy-MM-dd in the vendor zone (default: yesterday)')
    .option('--from <day>', 'first day of a range (with --to)')
    .option('--to <day>', 'last day of a range, included')
    .option('--lot <code>', 'one lot only')
    .option('--json', 'print the result as JSON')
    .option('--repair', 'enqueue the missing events (ledger checked, departures after their entrances)')
    .option('--wait', 'with --repair: wait until they are delivered, then reconcile again')
    .addHelpText(
      'after',
      '\nExit codes: 0 every event is delivered, quarantined, failed (see `replay`) or on its way; 1 events are\n' +
        'missing; 2 the days or the lot cannot be reconciled (the message says what can). Events after where\n' +
        'a stream has read up to (today, the commit lag) are provisional: counted as not read yet, not missing.\n' +
        'With several sources each is reconciled under its name (--source <name>: that one) and the exit code is\n' +
        'the worst of them; --repair works on one source.',
    )
    .action(async (flags: ReconcileFlags) => {
      if (flags.repair) return reconcileOn(configToChange('reconcile --repair'), flags);
      const scope = sourcesToRead();
      if (!scope.grouped) return reconcileOn(scope.configs[0]!, flags);
      return reconcileGrouped(scope, flags);
    });
}

/** One source, as `reconcile` did before sources (and `--repair`, which acts on one source). */
async function reconcileOn(config: Config, flags: ReconcileFlags): Promise<void> {
  await assertRedisReachable(config.redis.url, 'reconcile needs the delivery records kept there.');
  const zone = config.vendor.timeZone;
  let query: ReconcileQuery;
  try {
    query = queryOf(flags, zone, Date.now());
  } catch (error) {
    return badInput(error as Error);
  }
  const rt = createRuntime(config, { logger: silentLogger });
  try {
    let report: ReconcileReport;
    try {
      report = await reconcileDays(reconcileDeps(rt), query);
    } catch (error) {
      if (error instanceof ReconcileDayError || error instanceof UnknownLotError) return badInput(error);
      throw error;
    }
    let repair: RepairResult | undefined;
    let after: ReconcileReport | undefined;
    if (flags.repair && !report.complete) {
      repair = await repairMissing(rt, report, {
        onProgress: (stream, p) => {
          if (p.state === 'waiting-entrances' || p.state === 'waiting-queue')
            process.stderr.write(`${stream}: waiting (${p.state}); is a worker running?\n`);
        },
      });
      if (flags.wait) {
        await waitForRepair(rt, repair);
        after = await reconcileDays(reconcileDeps(rt), query);
      }
    }
    const final = after ?? report;
    if (flags.json) {
      console.log(
        JSON.stringify({ ...report, ...(repair ? { repair } : {}), ...(after ? { after } : {}) }, null, 2),
      );
    } else {
      console.log(formatReport(report));
      if (repair) console.log(formatRepair(repair));
      if (after) console.log(`\nafter the repair:\n${formatReport(after)}`);
    }
    process.exitCode = final.complete ? EXIT_COMPLETE : EXIT_MISSING;
  } finally {
    await rt.close();
  }
}

/** One source's part of a grouped reconcile: its report, or why it has none. */
type SourceReconcile =
  | { exitCode: number; report: ReconcileReport }
  | { exitCode: number; error: string }
  | { exitCode: number; skipped: string };

/**
 * Every source (`--repair` aside, which acts on one): each under its heading, or one JSON object per
 * source with its own exit code; the command exits with the worst of them, so cron sees a gap in
 * any source. With `--lot`, the sources without that lot are passed over (a lot is one source's);
 * a lot none of them has is bad input.
 */
async function reconcileGrouped(scope: ReadScope, flags: ReconcileFlags): Promise<void> {
  const url = scope.configs[0]?.redis.url;
  if (url) await assertRedisReachable(url, 'reconcile needs the delivery records kept there.');
  const queries = new Map<string, ReconcileQuery>();
  try {
    for (const c of scope.configs) queries.set(c.source.name, queryOf(flags, c.vendor.timeZone, Date.now()));
  } catch (error) {
    return badInput(error as Error);
  }
  const runs = await eachSource(scope, async (config): Promise<SourceReconcile> => {
    const rt = createRuntime(config, { logger: silentLogger, readOnly: true });
    try {
      const report = await reconcileDays(reconcileDeps(rt), queries.get(config.source.name)!);
      return { exitCode: report.complete ? EXIT_COMPLETE : EXIT_MISSING, report };
    } catch (error) {
      if (error instanceof UnknownLotError && flags.lot !== undefined)
        return { exitCode: EXIT_COMPLETE, skipped: error.message };
      if (error instanceof ReconcileDayError) return { exitCode: EXIT_BAD_INPUT, error: error.message };
      throw error;
    } finally {
      await rt.close();
    }
  });
  // A source that could not be read or is invalid cannot be reconciled: the "cannot" code.
  const outcomes = runs.map(({ config, ...run }) => ({
    config,
    outcome: 'error' in run ? { exitCode: EXIT_BAD_INPUT, error: run.error.message } : run.result,
  }));
  const reconciled = outcomes.filter(({ outcome }) => !('skipped' in outcome));
  const lotNowhere = flags.lot !== undefined && reconciled.length === 0 && scope.problems.length === 0;
  const codes = [
    ...outcomes.map(({ outcome }) => outcome.exitCode),
    ...scope.problems.map(() => EXIT_BAD_INPUT),
    ...(lotNowhere ? [EXIT_BAD_INPUT] : []),
  ];
  process.exitCode = Math.max(EXIT_COMPLETE, ...codes);
  if (flags.json) {
    const sources = outcomes.map(({ config, outcome }) => ({
      source: config.source.name,
      redisPrefix: config.redis.prefix,
      ...outcome,
    }));
    const invalid = scope.problems.map((p) => ({ ...problemJson(p), exitCode: EXIT_BAD_INPUT }));
    console.log(JSON.stringify({ sources: [...sources, ...invalid] }, null, 2));
    return;
  }
  const parts = outcomes.map(({ config, outcome }) => {
    const body =
      'report' in outcome
        ? formatReport(outcome.report)
        : 'skipped' in outcome
          ? `not this source's lot: ${outcome.skipped}`
          : `cannot be reconciled: ${outcome.error}`;
    return `${sourceHeading(config)}\n${body}`;
  });
  console.log([...parts, ...scope.problems.map(problemText)].join('\n\n'));
  if (lotNowhere) console.error(`no source has a lot "${flags.lot}" in its lot table`);
  const missing = outcomes.filter(({ outcome }) => outcome.exitCode === EXIT_MISSING);
  if (missing.length)
    console.log(
      `\nevents missing in ${missing.map(({ config }) => config.source.name).join(', ')}: ` +
        `isp-park-sync --source ${missing[0]!.config.source.name} reconcile ... --repair sends them`,
    );
}

function badInput(error: Error): void {
  console.error(error.message);
  process.exitCode = EXIT_BAD_INPUT;
}

/** The days asked for: `--date`, `--from`/`--to`, or yesterday. */
export function queryOf(flags: ReconcileFlags, zone: string, nowMs: number): ReconcileQuery {
  if (flags.date && (flags.from || flags.to))
    throw new ReconcileDayError('give either --date or --from/--to, not both');
  if ((flags.from === undefined) !== (flags.to === undefined))
    throw new ReconcileDayError(`${flags.from ? '--to' : '--from'} is missing: give both ends of the range`);
  const yesterday = previousDay(dayOf(nowMs / 1000, zone), zone);
  const from = flags.date ?? flags.from ?? yesterday;
  const to = flags.date ?? flags.to ?? yesterday;
  return { from, to, ...(flags.lot !== undefined ? { lot: flags.lot } : {}) };
}

async function waitForRepair(rt: Runtime, repair: RepairResult): Promise<void> {
  const jobs = (['entrances', 'departures'] as const).flatMap((stream) =>
    repair.jobIds[stream].map((id) => ({ queue: rt.queues.push[stream], id })),
  );
  if (jobs.length === 0) return;
  process.stderr.write(`waiting for the worker to deliver ${jobs.length} repair job(s) ...\n`);
  await waitForJobs(jobs, { everyMs: 500 });
}

export function formatReport(report: ReconcileReport): string {
  const zone = report.zone;
  const time = (s: number) => DateTime.fromSeconds(s, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
  const lines: string[] = [];
  const range = report.from === report.to ? report.from : `${report.from} to ${report.to}`;
  lines.push(`reconcile ${range} (${zone})${report.lot ? `, lot ${report.lot}` : ''}`);
  const shown = report.rows.filter((r) => r.recorded > 0 || r.missing.length > 0);
  const header = [
    'day',
    'lot',
    'stream',
    'recorded',
    'delivered',
    'quarantined',
    'failed',
    'pending',
    'unread',
    'missing',
    '',
  ];
  lines.push(
    formatTable(
      header,
      shown.map((r) => [
        r.day,
        r.parkCode,
        r.stream,
        String(r.recorded),
        String(r.delivered),
        String(r.quarantined),
        String(r.failed),
        String(r.pending),
        String(r.unread),
        String(r.missing.length),
        r.missing.length
          ? 'MISSING'
          : r.provisional
            ? `provisional from ${time(r.provisionalFrom ?? 0).slice(11)}`
            : 'complete',
      ]),
    ),
  );
  const quiet = report.rows.length - shown.length;
  if (quiet) lines.push(`(${quiet} lot-day-stream rows without events not shown)`);
  const missing = report.rows.flatMap((r) => r.missing);
  if (missing.length) {
    lines.push('', `missing (${missing.length}):`);
    for (const m of missing.slice(0, MISSING_PRINTED))
      lines.push(
        `  ${m.stream} ${m.parkCode} ${m.key || '(no key)'} vendor id ${m.vendorId} at ${time(m.time)}${m.reason ? `: ${m.reason}` : ''}`,
      );
    if (missing.length > MISSING_PRINTED)
      lines.push(`  ... and ${missing.length - MISSING_PRINTED} more (--json lists all)`);
  }
  const failed = report.rows.reduce((n, r) => n + r.failed, 0);
  const quarantined = report.rows.reduce((n, r) => n + r.quarantined, 0);
  lines.push(
    '',
    report.complete
      ? 'complete: every recorded event is delivered, quarantined, failed or on its way'
      : `NOT complete: ${report.missingByStream.entrances} entrances and ${report.missingByStream.departures} departures missing; ` +
          '`--repair` sends them',
  );
  if (failed)
    lines.push(`${failed} event(s) in the failed set: \`replay --list\` shows why, \`replay\` sends them`);
  if (quarantined) lines.push(`${quarantined} event(s) quarantined: \`quarantine list\` shows why`);
  return lines.join('\n');
}

function formatRepair(r: RepairResult): string {
  return (
    `repair: enqueued ${r.enqueued.entrances} entrances and ${r.enqueued.departures} departures ` +
    `(${r.jobIds.entrances.length + r.jobIds.departures.length} jobs)` +
    (r.alreadyDelivered ? `, ${r.alreadyDelivered} delivered meanwhile` : '') +
    (r.quarantined ? `, ${r.quarantined} quarantined` : '')
  );
}
