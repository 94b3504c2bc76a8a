/**
 * `report --date D [--to D] [--format csv|json|md] [--lot CODE]`: per lot and day (vendor zone),
 * entrances, departures, delivered, missing, quarantined, failed, photos missing, replayed,
 * delivery latency p50/p99 and completeness. Reads only: Redis, the vendor's lot table, and the
 * reconciliation (which reads the vendor's event tables).
 */
import { Command, InvalidArgumentError } from 'commander';
import { DateTime } from 'luxon';
import type { Config } from '../config/index.js';
import { silentLogger } from '../log.js';
import { UnknownLotError } from '../pipeline/reconcile/lot-names.js';
import type { ReconcileQuery } from '../pipeline/reconcile/types.js';
import type { DailyReport } from '../pipeline/report/daily-report.js';
import {
  formatReport,
  REPORT_FORMATS,
  type ReportFormat,
  sourcesReportCsv,
} from '../pipeline/report/format.js';
import { reportReconcileSource } from '../pipeline/report/reconcile-source.js';
import { dailyReport, UnknownReportLotError } from '../pipeline/report/report-deps.js';
import { createRuntime } from '../pipeline/runtime.js';
import { assertRedisReachable } from './redis-reachable.js';
import {
  eachSource,
  groupedExitCode,
  problemJson,
  problemText,
  type ReadScope,
  sourcesToRead,
} from './source-scope.js';

export function reportCommand(): Command {
  return new Command('report')
    .description(
      'per lot and day: events, delivered, missing, photos missing, replayed, latency, completeness (reads only)',
    )
    .option('--date <day>', 'the day, yyyy-MM-dd in the vendor zone, or today / yesterday', 'yesterday')
    .option('--to <day>', 'last day of a range starting at --date (inclusive)')
    .option('--format <format>', `${REPORT_FORMATS.join(', ')}`, asFormat, 'md' as ReportFormat)
    .option('--lot <code>', 'only this lot')
    .action(async (flags: ReportFlags) => {
      const scope = sourcesToRead();
      if (!scope.grouped) return reportOn(scope.configs[0]!, flags);
      return reportGrouped(scope, flags);
    });
}

interface ReportFlags {
  date: string;
  to?: string;
  format: ReportFormat;
  lot?: string;
}

/** The days asked for, in the vendor zone `zone`. */
function queryOf(flags: ReportFlags, zone: string): ReconcileQuery {
  const from = namedDay(flags.date, zone);
  const to = flags.to === undefined ? from : namedDay(flags.to, zone);
  if (to < from) throw new Error(`--to ${to} is before --date ${from}: give the earlier day first`);
  return { from, to, ...(flags.lot === undefined ? {} : { lot: flags.lot }) };
}

/** One source, as `report` printed it before sources. */
async function reportOn(config: Config, flags: ReportFlags): Promise<void> {
  const query = queryOf(flags, config.vendor.timeZone);
  await assertRedisReachable(config.redis.url, 'the report reads the delivery figures there.');
  const rt = createRuntime(config, { logger: silentLogger, readOnly: true });
  try {
    const report = await dailyReport(rt, query, reportReconcileSource(rt));
    process.stdout.write(formatReport(report, flags.format));
  } finally {
    await rt.close();
  }
}

type SourceReport = { report: DailyReport } | { skipped: string };

/**
 * Every source: Markdown under a heading each, CSV with a leading `source` column, JSON with one
 * object per source. With `--lot`, sources without that lot are passed over (a lot is one
 * source's); a lot none of them knows is an error.
 */
async function reportGrouped(scope: ReadScope, flags: ReportFlags): Promise<void> {
  // A mistyped day is said once, before any source is read.
  const queries = new Map(scope.configs.map((c) => [c.source.name, queryOf(flags, c.vendor.timeZone)]));
  const url = scope.configs[0]?.redis.url;
  if (url) await assertRedisReachable(url, 'the report reads the delivery figures there.');
  const runs = await eachSource(scope, async (config): Promise<SourceReport> => {
    const rt = createRuntime(config, { logger: silentLogger, readOnly: true });
    try {
      return {
        report: await dailyReport(rt, queries.get(config.source.name)!, reportReconcileSource(rt)),
      };
    } catch (error) {
      if (
        flags.lot !== undefined &&
        (error instanceof UnknownLotError || error instanceof UnknownReportLotError)
      )
        return { skipped: error.message };
      throw error;
    } finally {
      await rt.close();
    }
  });
  let exitCode = groupedExitCode(scope, runs);
  const reports = runs.flatMap((r) =>
    'result' in r && 'report' in r.result ? [{ source: r.config.source.name, report: r.result.report }] : [],
  );
  if (flags.lot !== undefined && reports.length === 0 && runs.every((r) => 'result' in r)) {
    console.error(`no source has a lot "${flags.lot}" in its lot table or delivery figures`);
    exitCode = 1;
  }
  process.exitCode = exitCode;
  const note = (config: Config, text: string) =>
    process.stderr.write(`source ${config.source.name}: ${text}\n`);
  if (flags.format === 'json') {
    const sources = runs.map(({ config, ...run }) => ({
      source: config.source.name,
      redisPrefix: config.redis.prefix,
      ...('error' in run ? { error: run.error.message } : run.result),
    }));
    process.stdout.write(
      `${JSON.stringify({ sources: [...sources, ...scope.problems.map(problemJson)] }, null, 2)}\n`,
    );
    return;
  }
  if (flags.format === 'csv') {
    for (const { config, ...run } of runs) {
      if ('error' in run) note(config, `no report: ${run.error.message}`);
      else if ('skipped' in run.result) note(config, run.result.skipped);
    }
    for (const p of scope.problems) process.stderr.write(`${problemText(p)}\n`);
    process.stdout.write(sourcesReportCsv(reports));
    return;
  }
  const parts = runs.map(({ config, ...run }) => {
    const body =
      'error' in run
        ? `No report: ${run.error.message}\n`
        : 'skipped' in run.result
          ? `Not this source's lot: ${run.result.skipped}\n`
          : formatReport(run.result.report, 'md');
    return `# Source ${config.source.name}\n\n${body}`;
  });
  const invalid = scope.problems.map(
    (p) => `# Source ${p.name ?? p.origin}\n\nInvalid, not reported: ${p.error.message}\n`,
  );
  process.stdout.write([...parts, ...invalid].join('\n'));
}

function asFormat(value: string): ReportFormat {
  if (!(REPORT_FORMATS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${REPORT_FORMATS.join(', ')}`);
  return value as ReportFormat;
}

/** `today`, `yesterday` (vendor zone) or a yyyy-MM-dd day as given. */
function namedDay(value: string, zone: string): string {
  const today = DateTime.now().setZone(zone);
  if (value === 'today') return today.toFormat('yyyy-MM-dd');
  if (value === 'yesterday') return today.minus({ days: 1 }).toFormat('yyyy-MM-dd');
  const day = DateTime.fromFormat(value, 'yyyy-MM-dd', { zone });
  if (!day.isValid)
    throw new Error(`"${value}" is not a day: give it as yyyy-MM-dd (e.g. 2026-12-01), today or yesterday`);
  return value;
}
