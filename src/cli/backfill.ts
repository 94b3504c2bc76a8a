/**
 * `backfill <stream> --from <time> [--to <time>]`: re-reads a time range of entrances or departures
 * from the vendor and enqueues what ISP has not received (delivered-key ledger), with a progress
 * line and an ETA (plain periodic lines when stderr is not a terminal). The live checkpoint is not
 * touched. The work is src/pipeline/events/backfill.ts; this file talks to the operator.
 */
import { Command } from 'commander';
import { DateTime } from 'luxon';
import { silentLogger } from '../log.js';
import { type BackfillProgress, backfillDeps, liveCap, runBackfill } from '../pipeline/events/backfill.js';
import { waitForJobs } from '../pipeline/follow-jobs.js';
import { createRuntime } from '../pipeline/runtime.js';
import { EVENT_STREAM_NAMES, isEventStream, isLotStream } from '../pipeline/streams.js';
import { parseOperatorTime } from './operator-time.js';
import { formatTally } from './replay.js';
import { configToChange } from './source-scope.js';

interface BackfillFlags {
  from: string;
  to?: string;
  wait?: boolean;
}

/** Plain progress lines (no terminal) at most this often. */
const PLAIN_EVERY_MS = 5_000;

export function backfillCommand(): Command {
  return new Command('backfill')
    .description(
      'send what ISP has not received from a time range of entrances or departures (the live checkpoint stays put)',
    )
    .argument('<stream>', 'entrances or departures (for lots and spot counts use full-sync)')
    .requiredOption('--from <time>', 'start, inclusive (ISO 8601; read in the vendor zone without an offset)')
    .option('--to <time>', 'end, exclusive (default: now)')
    .option('--wait', 'wait until the enqueued jobs are delivered and report the outcome')
    .addHelpText(
      'after',
      '\nRecords the delivered-key ledger has are skipped, so a backfill can be rerun safely. The range is cut\n' +
        'where the live pipeline still holds work. Entrances and departures of one range may be backfilled at\n' +
        'once: departures are read only as far as every entrance before them is delivered (live or backfilled),\n' +
        'so no departure reaches ISP before its entrance.',
    )
    .action(async (stream: string, flags: BackfillFlags) => {
      if (isLotStream(stream)) {
        throw new Error(
          `${stream} are not read by time: use \`isp-park-sync full-sync\` to send every lot and spot count again`,
        );
      }
      if (!isEventStream(stream))
        throw new Error(`unknown stream "${stream}"; use ${EVENT_STREAM_NAMES.join(' or ')}`);
      const events = stream;
      const config = configToChange('backfill');
      const zone = config.vendor.timeZone;
      const from = parseOperatorTime(flags.from, zone, '--from');
      const requestedTo =
        flags.to === undefined ? Math.floor(Date.now() / 1000) : parseOperatorTime(flags.to, zone, '--to');
      if (requestedTo <= from)
        throw new Error(`--to (${show(requestedTo, zone)}) must be after --from (${show(from, zone)})`);

      const rt = createRuntime(config, { logger: silentLogger });
      const abort = new AbortController();
      const onSignal = () => {
        if (abort.signal.aborted) process.exit(130);
        process.stderr.write('\nstopping after this page (signal again to exit now)\n');
        abort.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const cap = await liveCap(rt, events);
        let to = requestedTo;
        if (cap !== undefined && cap < to) {
          to = Math.max(from, cap);
          console.log(
            `reading up to ${show(to, zone)} only: after it the live pipeline still holds ${events} and sends them itself`,
          );
        }
        if (to <= from) {
          console.log('nothing to backfill in that range');
          return;
        }
        console.log(`backfill ${events} from ${show(from, zone)} to ${show(to, zone)} (${zone})`);
        const printer = progressPrinter(events, zone);
        const result = await runBackfill(
          backfillDeps(rt, events, { onProgress: printer.update, signal: abort.signal }),
          { from, to },
        );
        printer.end();
        console.log(
          `${result.stoppedBy === 'aborted' ? 'stopped early' : 'done'}: read ${result.read} rows, ` +
            `enqueued ${result.enqueued} (in ${result.jobIds.length} jobs), already delivered ${result.alreadyDelivered}, ` +
            `quarantined ${result.quarantined}`,
        );
        if (result.stoppedBy === 'aborted') process.exitCode = 130;
        if (flags.wait && result.jobIds.length && !abort.signal.aborted) {
          console.log('waiting for the worker to deliver them ...');
          const queue = rt.queues.push[events];
          const { tally } = await waitForJobs(
            result.jobIds.map((id) => ({ queue, id })),
            { everyMs: 500, signal: abort.signal },
          );
          console.log(formatTally(tally));
          if (tally.jobs.failed > 0) process.exitCode = 1;
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await rt.close();
      }
    });
}

function show(epoch: number, zone: string): string {
  return DateTime.fromSeconds(epoch, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
}

/** One progress line: bar, counts, then where it is (or what it waits for) and the ETA. */
export function formatProgress(stream: string, p: BackfillProgress, zone: string, barWidth = 12): string {
  const filled = Math.round(p.fraction * barWidth);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
  const pct = `${Math.floor(p.fraction * 100)}%`.padStart(4);
  const head = `${stream} ${pct} ${bar}`;
  if (p.state === 'waiting-queue')
    return `${head} WAITING: push queue holds ${p.queueDepth} jobs (is a worker running?) | read ${p.read}`;
  if (p.state === 'waiting-entrances')
    return (
      `${head} WAITING: for entrances from ${p.gate === undefined ? '?' : show(p.gate, zone)} on to be delivered ` +
      `(is a worker running?) | read ${p.read}`
    );
  const counts = `read ${p.read}, enqueued ${p.enqueued}, already delivered ${p.alreadyDelivered}, quarantined ${p.quarantined}`;
  return `${head} ${counts} | at ${show(p.position, zone)} | ETA ${formatEta(p.etaMs, p.state)}`;
}

export function formatEta(ms: number | undefined, state: BackfillProgress['state']): string {
  if (state === 'done') return '0:00';
  if (ms === undefined || !Number.isFinite(ms)) return '--:--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** A progress line rewritten in place on a terminal; plain lines every few seconds otherwise. */
function progressPrinter(stream: string, zone: string) {
  const tty = process.stderr.isTTY === true;
  let lastPlain = 0;
  let lastState: BackfillProgress['state'] | undefined;
  let drawn = false;
  return {
    update(p: BackfillProgress) {
      const line = formatProgress(stream, p, zone);
      if (tty) {
        const width = process.stderr.columns || 120;
        process.stderr.write(`\r${line.slice(0, width - 1).padEnd(width - 1)}`);
        drawn = true;
        return;
      }
      const now = Date.now();
      if (p.state !== lastState || now - lastPlain >= PLAIN_EVERY_MS || p.state === 'done') {
        process.stderr.write(`${line}\n`);
        lastPlain = now;
        lastState = p.state;
      }
    },
    end() {
      if (tty && drawn) process.stderr.write('\n');
    },
  };
}
