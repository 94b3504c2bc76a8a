/**
 * `report --date D [--to D] [--format csv|json|md] [--lot CODE]`: per lot and day (vendor zone),
 * entrances, departures, delivered, missing, quarantined, failed, photos missing, replayed,
 * delivery latency p50/p99 and completeness. Reads only: Redis, the vendor's lot table, and the
 * reconciliation (which reads the vendor's event tables).
 */
import { Command, InvalidArgumentError } from 'commander';
import { DateTime } from 'luxon';
import { loadConfig } from '../config/index.js';
import { silentLogger } from '../log.js';
import { formatReport, REPORT_FORMATS, type ReportFormat } from '../pipeline/report/format.js';
import { reportReconcileSource } from '../pipeline/report/reconcile-source.js';
import { dailyReport } from '../pipeline/report/report-deps.js';
import { createRuntime } from '../pipeline/runtime.js';
import { assertRedisReachable } from './redis-reachable.js';

export function reportCommand(): Command {
  return new Command('report')
    .description(
      'per lot and day: events, delivered, missing, photos missing, replayed, latency, completeness (reads only)',
    )
    .option('--date <day>', 'the day, yyyy-MM-dd in the vendor zone, or today / yesterday', 'yesterday')
    .option('--to <day>', 'last day of a range starting at --date (inclusive)')
    .option('--format <format>', `${REPORT_FORMATS.join(', ')}`, asFormat, 'md' as ReportFormat)
    .option('--lot <code>', 'only this lot')
    .action(async (flags: { date: string; to?: string; format: ReportFormat; lot?: string }) => {
      const config = loadConfig();
      const zone = config.vendor.timeZone;
      const from = namedDay(flags.date, zone);
      const to = flags.to === undefined ? from : namedDay(flags.to, zone);
      if (to < from) throw new Error(`--to ${to} is before --date ${from}: give the earlier day first`);
      await assertRedisReachable(config.redis.url, 'the report reads the delivery figures there.');
      const rt = createRuntime(config, { logger: silentLogger, readOnly: true });
      try {
        const query = { from, to, ...(flags.lot === undefined ? {} : { lot: flags.lot }) };
        const report = await dailyReport(rt, query, reportReconcileSource(rt));
        process.stdout.write(formatReport(report, flags.format));
      } finally {
        await rt.close();
      }
    });
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
