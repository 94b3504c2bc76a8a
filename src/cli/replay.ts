/**
 * `replay`: puts failed jobs back to work — all of them, or those of some queues/streams, a failure
 * time range, some job ids or one lot. Shows what matches and asks before acting (or takes `--yes`;
 * without a terminal to ask on and without `--yes` it refuses). The delivered-key ledger is honoured
 * unless `--force`. The selection and the retry live in src/pipeline/replay.ts; this file only talks
 * to the operator. Sends nothing itself: a running worker does.
 */
import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { DateTime } from 'luxon';
import { loadConfig } from '../config/index.js';
import { createQueues } from '../pipeline/queues.js';
import {
  DEFAULT_REPLAY_QUEUES,
  type FailedJobInfo,
  findFailedJobs,
  type JobTally,
  queuesToSearch,
  type ReplayFilter,
  replayJobs,
  waitForJobs,
} from '../pipeline/replay.js';
import { oneLine } from './args.js';
import { parseOperatorTime } from './operator-time.js';
import { formatTable } from './table.js';

interface ReplayFlags {
  queue?: string[];
  stream?: string[];
  since?: string;
  until?: string;
  job?: string[];
  lot?: string;
  force?: boolean;
  yes?: boolean;
  list?: boolean;
  wait?: boolean;
}

/** Rows of the table shown before asking. */
const SHOWN = 20;

export function replayCommand(): Command {
  return new Command('replay')
    .description('put failed jobs back to work (all, or by queue, stream, failure time, job id or lot)')
    .option('--queue <names...>', `queues to replay from (default: ${DEFAULT_REPLAY_QUEUES.join(', ')})`)
    .option(
      '--stream <names...>',
      'the push queues of these streams (entrances, departures, parks, spotNums)',
    )
    .option('--since <time>', 'jobs that failed at or after this time (ISO 8601; vendor zone without offset)')
    .option('--until <time>', 'jobs that failed before this time')
    .option('--job <ids...>', 'only these job ids')
    .option('--lot <parkCode>', 'only jobs with a record of this lot, e.g. ATXL/1')
    .option('--force', 'send records again even if the delivered-key ledger says ISP has them')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--list', 'only show the matching jobs')
    .option('--wait', 'wait until the replayed jobs are done and report what they delivered')
    .action(async (flags: ReplayFlags) => {
      const config = loadConfig();
      const zone = config.vendor.timeZone;
      const filter: ReplayFilter = {
        queues: queuesToSearch({ queues: flags.queue ?? [], streams: flags.stream ?? [] }),
        since: flags.since === undefined ? undefined : parseOperatorTime(flags.since, zone, '--since') * 1000,
        until: flags.until === undefined ? undefined : parseOperatorTime(flags.until, zone, '--until') * 1000,
        jobIds: flags.job,
        lot: flags.lot?.trim(),
      };
      const queues = createQueues(config);
      try {
        const { found, notes } = await findFailedJobs(queues.all(), filter);
        for (const note of notes) console.log(note);
        if (found.length === 0) {
          console.log(`no failed jobs match in ${filter.queues.join(', ')}`);
          return;
        }
        console.log(`${found.length} failed job${found.length === 1 ? '' : 's'} match:`);
        console.log(
          formatJobTable(
            found.slice(0, SHOWN).map((f) => f.info),
            zone,
          ),
        );
        if (found.length > SHOWN) console.log(`... and ${found.length - SHOWN} more`);
        if (flags.list) return;

        const what = flags.force
          ? 'FORCED: records are sent even if ISP already has them'
          : 'records ISP already has (delivered-key ledger) are skipped';
        if (!flags.yes) {
          if (!process.stdin.isTTY) {
            throw new Error(
              `refusing to replay ${found.length} job(s) without confirmation: there is no terminal to ask on; ` +
                'check the list above and pass --yes',
            );
          }
          if (!(await confirm(`Replay ${found.length} job(s) (${what})? [y/N] `))) {
            console.log('nothing replayed');
            return;
          }
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
    });
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

export function formatTally(t: JobTally): string {
  return (
    `done: ${t.jobs.completed} job(s) completed, ${t.jobs.failed} failed again` +
    (t.jobs.gone ? `, ${t.jobs.gone} gone` : '') +
    `; records delivered ${t.delivered}, already delivered (skipped) ${t.skipped}, ` +
    `quarantined ${t.quarantined}, rejected by ISP ${t.isolated}`
  );
}
