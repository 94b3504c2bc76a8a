/**
 * Long by design: one command, with its selection flags and its list, discard and audit forms.
 *
 * `replay`: puts failed jobs back to work — all of them, or those of some queues/streams, a failure
 * time range, some job ids, a lot, a plate or an event time range; or, with `--discard --reason`,
 * removes them on purpose after writing each to the discard audit (`--audit` lists it). Shows what matches and asks before acting (or takes `--yes`;
 * without a terminal to ask on and without `--yes` it refuses). The delivered-key ledger is honoured
 * unless `--force`. The selection and the retry live in src/pipeline/replay.ts; this file only talks
 * to the operator. Sends nothing itself: a running worker does.
 */
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { DateTime } from 'luxon';
import type { Config } from '../config/index.js';
import { createLogger } from '../log.js';
import { discardJobs } from '../pipeline/discard.js';
import { type JobTally, waitForJobs } from '../pipeline/follow-jobs.js';
import { createQueues, createRedis } from '../pipeline/queues.js';
import {
  DEFAULT_REPLAY_QUEUES,
  type FailedJobInfo,
  type FoundJob,
  findFailedJobs,
  queuesToSearch,
  type ReplayFilter,
  ReplaySelectionError,
  replayJobs,
} from '../pipeline/replay.js';
import { DiscardAudit, type DiscardRecord } from '../state/discard-audit.js';
import { oneLine, positiveWhole, wholeNumber } from './args.js';
import { parseOperatorTime } from './operator-time.js';
import {
  configToChange,
  eachSource,
  groupedExitCode,
  problemJson,
  problemText,
  type ReadScope,
  sourceHeading,
  sourcesToRead,
} from './source-scope.js';
import { formatTable } from './table.js';

interface ReplayFlags {
  queue?: string[];
  stream?: string[];
  since?: string;
  until?: string;
  from?: string;
  to?: string;
  job?: string[];
  lot?: string;
  plate?: string;
  force?: boolean;
  yes?: boolean;
  list?: boolean;
  json?: boolean;
  offset?: number;
  limit?: number;
  wait?: boolean;
  discard?: boolean;
  reason?: string;
  audit?: boolean;
}

/** Rows of the table shown before asking (`--list` shows every row, or `--offset`/`--limit`). */
const SHOWN = 20;

export function replayCommand(): Command {
  return new Command('replay')
    .description(
      'put failed jobs back to work, or discard them on purpose (select by queue, stream, failure time, job id, lot, plate or event time)',
    )
    .option('--queue <names...>', `queues to replay from (default: ${DEFAULT_REPLAY_QUEUES.join(', ')})`)
    .option(
      '--stream <names...>',
      'the push queues of these streams (entrances, departures, parks, spotNums)',
    )
    .option('--since <time>', 'jobs that failed at or after this time (ISO 8601; vendor zone without offset)')
    .option('--until <time>', 'jobs that failed before this time')
    .option('--from <time>', 'jobs with an event at or after this event time (vendor zone without offset)')
    .option('--to <time>', 'jobs with an event before this event time')
    .option('--job <ids...>', 'only these job ids')
    .option('--lot <parkCode>', 'only jobs with a record of this lot, e.g. ATXL/1')
    .option('--plate <plate>', 'only jobs with a record of this plate, e.g. 鲁A12345')
    .option('--force', 'send records again even if the delivered-key ledger says ISP has them')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--list', "only show the matching jobs (all of them, with ISP's whole reason)")
    .option('--json', 'with --list or --audit: print JSON')
    .option('--offset <n>', 'with --list: skip this many jobs', wholeNumber)
    .option('--limit <n>', 'with --list: show at most this many jobs', positiveWhole)
    .option('--wait', 'wait until the replayed jobs are done and report what they delivered')
    .option(
      '--discard',
      'remove the matching failed jobs instead of replaying them (their events are then never sent); needs --reason, writes an audit record',
    )
    .option('--reason <text>', "with --discard: why (kept in the audit with ISP's reason)")
    .option('--audit', 'list discarded jobs (newest first; --limit, --json)')
    .action(async (flags: ReplayFlags) => {
      if (flags.audit || flags.list) {
        // Showing only: every source of a config with several, or the one chosen.
        const scope = sourcesToRead();
        if (scope.grouped) return listGrouped(scope, flags);
        return replayOn(scope.configs[0]!, flags);
      }
      return replayOn(configToChange(flags.discard ? 'replay --discard' : 'replay'), flags);
    });
}

/** What `replay` did before sources: on one source, its output without a heading. */
async function replayOn(config: Config, flags: ReplayFlags): Promise<void> {
  const zone = config.vendor.timeZone;
  if (flags.audit) return showAudit(config, flags);
  if (flags.discard && !flags.reason?.trim())
    throw new ReplaySelectionError(
      '--discard needs --reason "<why>": a discarded job is an event ISP never gets, and the reason is kept in the audit',
    );
  if (flags.discard && flags.force)
    throw new ReplaySelectionError('--force re-sends; --discard removes: choose one');
  const filter = filterOf(flags, zone);
  const queues = createQueues(config);
  try {
    const { found, notes } = await findFailedJobs(queues.all(), filter);
    if (flags.list && flags.json) {
      const page = found.slice(flags.offset ?? 0, (flags.offset ?? 0) + (flags.limit ?? found.length));
      console.log(
        JSON.stringify(
          { total: found.length, offset: flags.offset ?? 0, jobs: page.map((f) => f.info), notes },
          null,
          2,
        ),
      );
      return;
    }
    for (const note of notes) console.log(note);
    if (found.length === 0) {
      console.log(`no failed jobs match in ${filter.queues.join(', ')}`);
      return;
    }
    console.log(`${found.length} failed job${found.length === 1 ? '' : 's'} match:`);
    if (flags.list) {
      const offset = flags.offset ?? 0;
      const page = found.slice(offset, offset + (flags.limit ?? found.length));
      console.log(
        formatJobList(
          page.map((f) => f.info),
          zone,
        ),
      );
      if (offset + page.length < found.length)
        console.log(
          `rows ${offset + 1}-${offset + page.length} of ${found.length}; next: --offset ${offset + page.length}`,
        );
      return;
    }
    console.log(
      formatJobTable(
        found.slice(0, SHOWN).map((f) => f.info),
        zone,
      ),
    );
    if (found.length > SHOWN)
      console.log(`... and ${found.length - SHOWN} more (all of them, with ISP's whole reason: --list)`);

    const what = flags.discard
      ? `DISCARD: their events are never sent to ISP; reason "${flags.reason?.trim()}" is audited`
      : flags.force
        ? 'FORCED: records are sent even if ISP already has them'
        : 'records ISP already has (delivered-key ledger) are skipped';
    const verb = flags.discard ? 'Discard' : 'Replay';
    if (!flags.yes) {
      if (!process.stdin.isTTY) {
        throw new Error(
          `refusing to ${verb.toLowerCase()} ${found.length} job(s) without confirmation: there is no terminal to ask on; ` +
            'check the list above and pass --yes',
        );
      }
      if (!(await confirm(`${verb} ${found.length} job(s) (${what})? [y/N] `))) {
        console.log(`nothing ${flags.discard ? 'discarded' : 'replayed'}`);
        return;
      }
    }
    if (flags.discard) {
      await discard(config, found, flags.reason!.trim());
      return;
    }
    const result = await replayJobs(found, { resend: flags.force === true });
    for (const e of result.errors) console.error(`job ${e.info.id} in ${e.info.queue}: ${e.message}`);
    console.log(
      `replayed ${result.replayed.length} job(s) (${what}); a running worker sends them` +
        (result.errors.length ? `; ${result.errors.length} could not be replayed` : ''),
    );
    if (result.errors.length) process.exitCode = 1;
    if (flags.wait && result.replayed.length) {
      const byName = new Map(queues.all().map((q) => [q.name, q]));
      const { tally } = await waitForJobs(
        result.replayed.map((r) => ({ queue: byName.get(r.info.queue)!, id: r.info.id })),
        { everyMs: 500 },
      );
      console.log(formatTally(tally));
      if (tally.jobs.failed > 0) process.exitCode = 1;
    }
  } finally {
    await queues.close();
  }
}

/** The selection as the flags give it, times read in the vendor zone `zone`. */
function filterOf(flags: ReplayFlags, zone: string): ReplayFilter {
  const time = (value: string | undefined, flag: string) =>
    value === undefined ? undefined : parseOperatorTime(value, zone, flag);
  return {
    queues: queuesToSearch({ queues: flags.queue ?? [], streams: flags.stream ?? [] }),
    since: mul(time(flags.since, '--since'), 1000),
    until: mul(time(flags.until, '--until'), 1000),
    eventFrom: time(flags.from, '--from'),
    eventTo: time(flags.to, '--to'),
    jobIds: flags.job,
    lot: flags.lot?.trim(),
    plate: flags.plate?.trim(),
  };
}

interface SourceList {
  found: FoundJob[];
  notes: string[];
  filter: ReplayFilter;
}

/**
 * `--list` or `--audit` over every source: each under its heading, or one JSON object per source
 * (each job and audit record also names its source). The queue objects write nothing, so a source
 * where nothing ran keeps no key.
 */
async function listGrouped(scope: ReadScope, flags: ReplayFlags): Promise<void> {
  if (flags.audit) return auditGrouped(scope, flags);
  // A mistyped flag is said once, before any source is read.
  const filters = new Map(scope.configs.map((c) => [c.source.name, filterOf(flags, c.vendor.timeZone)]));
  const runs = await eachSource(scope, async (config): Promise<SourceList> => {
    const filter = filters.get(config.source.name)!;
    const queues = createQueues(config, undefined, { readOnly: true });
    try {
      return { ...(await findFailedJobs(queues.all(), filter)), filter };
    } finally {
      await queues.close();
    }
  });
  process.exitCode = groupedExitCode(scope, runs);
  const offset = flags.offset ?? 0;
  const pageOf = (found: FoundJob[]) => found.slice(offset, offset + (flags.limit ?? found.length));
  if (flags.json) {
    const sources = runs.map(({ config, ...run }) => {
      const head = { source: config.source.name, redisPrefix: config.redis.prefix };
      if ('error' in run) return { ...head, error: run.error.message };
      const jobs = pageOf(run.result.found).map((f) => ({ source: config.source.name, ...f.info }));
      return { ...head, total: run.result.found.length, offset, jobs, notes: run.result.notes };
    });
    console.log(JSON.stringify({ sources: [...sources, ...scope.problems.map(problemJson)] }, null, 2));
    return;
  }
  const parts = runs.map(({ config, ...run }) => {
    const lines = [sourceHeading(config)];
    if ('error' in run) return [...lines, `failed jobs could not be read: ${run.error.message}`].join('\n');
    const { found, notes, filter } = run.result;
    lines.push(...notes);
    if (found.length === 0)
      return [...lines, `no failed jobs match in ${filter.queues.join(', ')}`].join('\n');
    const page = pageOf(found);
    lines.push(`${found.length} failed job${found.length === 1 ? '' : 's'} match:`);
    lines.push(
      formatJobList(
        page.map((f) => f.info),
        config.vendor.timeZone,
      ),
    );
    if (offset + page.length < found.length)
      lines.push(
        `rows ${offset + 1}-${offset + page.length} of ${found.length}; next: --offset ${offset + page.length}`,
      );
    return lines.join('\n');
  });
  console.log([...parts, ...scope.problems.map(problemText)].join('\n\n'));
  if (runs.some((r) => 'result' in r && r.result.found.length > 0))
    console.log('\nreplay or discard them source by source: isp-park-sync --source <name> replay ...');
}

async function auditGrouped(scope: ReadScope, flags: ReplayFlags): Promise<void> {
  const runs = await eachSource(scope, async (config) => {
    const redis = createRedis(config);
    try {
      return await new DiscardAudit(redis, config.redis.prefix).list(flags.limit ?? 100);
    } finally {
      await redis.quit().catch(() => redis.disconnect());
    }
  });
  process.exitCode = groupedExitCode(scope, runs);
  if (flags.json) {
    const sources = runs.map(({ config, ...run }) => ({
      source: config.source.name,
      redisPrefix: config.redis.prefix,
      ...('error' in run
        ? { error: run.error.message }
        : { records: run.result.map((r) => ({ source: config.source.name, ...r })) }),
    }));
    console.log(JSON.stringify({ sources: [...sources, ...scope.problems.map(problemJson)] }, null, 2));
    return;
  }
  const parts = runs.map(({ config, ...run }) =>
    [
      sourceHeading(config),
      ...('error' in run
        ? [`the discard audit could not be read: ${run.error.message}`]
        : formatAudit(run.result, config.vendor.timeZone)),
    ].join('\n'),
  );
  console.log([...parts, ...scope.problems.map(problemText)].join('\n\n'));
}

function mul(value: number | undefined, factor: number): number | undefined {
  return value === undefined ? undefined : value * factor;
}

async function discard(config: Config, found: FoundJob[], reason: string): Promise<void> {
  const redis = createRedis(config);
  const logger = createLogger(config.log.level, 'isp-park-sync', true);
  try {
    const result = await discardJobs(found, {
      reason,
      audit: new DiscardAudit(redis, config.redis.prefix),
      operator: operatorName(),
      log: (record) =>
        logger.warn(
          {
            queue: record.queue,
            jobId: record.jobId,
            keys: record.keys,
            lots: record.lots,
            ispReason: record.ispReason,
            reason: record.reason,
            operator: record.operator,
          },
          'failed job discarded by an operator: its events are not sent to ISP',
        ),
    });
    for (const e of result.errors) console.error(`job ${e.info.id} in ${e.info.queue}: ${e.message}`);
    console.log(
      `discarded ${result.discarded.length} job(s); each is recorded in the audit (isp-park-sync replay --audit)` +
        (result.errors.length ? `; ${result.errors.length} could not be discarded` : ''),
    );
    if (result.errors.length) process.exitCode = 1;
  } finally {
    logger.flush();
    await redis.quit().catch(() => redis.disconnect());
  }
}

async function showAudit(config: Config, flags: ReplayFlags): Promise<void> {
  const redis = createRedis(config);
  try {
    const records = await new DiscardAudit(redis, config.redis.prefix).list(flags.limit ?? 100);
    if (flags.json) {
      console.log(JSON.stringify(records, null, 2));
      return;
    }
    console.log(formatAudit(records, config.vendor.timeZone).join('\n'));
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

function formatAudit(records: readonly DiscardRecord[], zone: string): string[] {
  if (records.length === 0) return ['no failed job has been discarded'];
  const lines: string[] = [];
  for (const r of records) {
    lines.push(
      `${DateTime.fromMillis(r.at, { zone }).toFormat('yyyy-MM-dd HH:mm:ss')} ${r.queue}/${r.jobId}` +
        `${r.operator ? ` by ${r.operator}` : ''}: ${r.reason}`,
    );
    lines.push(`  lots ${r.lots.join(', ') || '-'}; records ${r.keys.join(', ') || '-'}`);
    lines.push(`  ISP said: ${r.ispReason || '-'}`);
  }
  lines.push(`times in ${zone}`);
  return lines;
}

function operatorName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

/** Asks a yes/no question on the terminal. */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^(y|yes)$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function formatJobTable(jobs: readonly FailedJobInfo[], zone: string): string {
  const header = ['queue', 'job', 'failed at', 'lots', 'records', 'reason'];
  const rows = jobs.map((j) => [
    j.queue,
    j.id,
    j.failedAt === undefined
      ? '-'
      : DateTime.fromMillis(j.failedAt, { zone }).toFormat('yyyy-MM-dd HH:mm:ss'),
    j.lots.length > 3 ? `${j.lots.slice(0, 3).join(',')},+${j.lots.length - 3}` : j.lots.join(',') || '-',
    String(j.records),
    oneLine(j.reason, 70),
  ]);
  return formatTable(header, rows);
}

/** Every job with ISP's whole reason on its own line (`--list`). */
export function formatJobList(jobs: readonly FailedJobInfo[], zone: string): string {
  const lines: string[] = [];
  const time = (s: number) => DateTime.fromSeconds(s, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
  for (const j of jobs) {
    const failedAt = j.failedAt === undefined ? '-' : time(Math.floor(j.failedAt / 1000));
    const events = j.eventTimes ? `events ${time(j.eventTimes.first)}..${time(j.eventTimes.last)}` : '';
    lines.push(
      `${j.queue} ${j.id}  failed ${failedAt}  lots ${j.lots.join(',') || '-'}  records ${j.records}` +
        `${j.plates.length ? `  plates ${j.plates.join(',')}` : ''}${events ? `  ${events}` : ''}`,
    );
    lines.push(`  reason: ${j.reason || '-'}`);
  }
  lines.push(`times in ${zone}`);
  return lines.join('\n');
}

export function formatTally(t: JobTally): string {
  return (
    `done: ${t.jobs.completed} job(s) completed, ${t.jobs.failed} failed again` +
    (t.jobs.gone ? `, ${t.jobs.gone} gone` : '') +
    `; records delivered ${t.delivered}, already delivered (skipped) ${t.skipped}, ` +
    `quarantined ${t.quarantined}, rejected by ISP ${t.isolated}`
  );
}
