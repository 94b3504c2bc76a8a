/**
 * `resume`: after Redis lost the worker's state (the worker stopped polling and says so on
 * /readyz, the status page and `status`), the operator's choice: re-read from a time
 * (`--from`) or the whole history (`--all`). Refuses when the state is intact (a range is
 * re-read with `backfill`). Talks to the operator only; the work is src/pipeline/resume.ts.
 */
import { Command } from 'commander';
import { DateTime } from 'luxon';
import { silentLogger } from '../log.js';
import { resumeState } from '../pipeline/resume.js';
import { createRuntime } from '../pipeline/runtime.js';
import { lossAdvice } from '../pipeline/state-guard.js';
import { StateMarkerStore } from '../state/state-marker.js';
import { parseOperatorTime } from './operator-time.js';
import { configToChange } from './source-scope.js';

export function resumeCommand(): Command {
  return new Command('resume')
    .description('after Redis lost the state: poll again from a time (--from) or from the start (--all)')
    .option(
      '--from <time>',
      're-read every event stream from this time (ISO 8601; vendor zone without offset)',
    )
    .option('--all', "re-read the vendor's whole history (every event is sent again)")
    .option('--force', 'resume even though no loss is recorded (the marker is there)')
    .action(async (flags: { from?: string; all?: boolean; force?: boolean }) => {
      const config = configToChange('resume');
      const zone = config.vendor.timeZone;
      if ((flags.from === undefined) === !flags.all)
        throw new Error('resume needs exactly one of --from <time> or --all');
      const from = flags.from === undefined ? null : parseOperatorTime(flags.from, zone, '--from');
      const rt = createRuntime(config, { logger: silentLogger });
      try {
        const { marker, lost } = await new StateMarkerStore(rt.redis, config.redis.prefix).read();
        if (!lost && marker && !flags.force) {
          throw new Error(
            `the state under prefix ${config.redis.prefix} is intact (marker ${marker.id}, no loss recorded): nothing to ` +
              'resume. To send a time range again use `backfill <stream> --from <time>`; --force resumes anyway',
          );
        }
        if (lost) console.log(`loss recorded: ${lost.reason}\n${lossAdvice(lost, zone)}\n`);
        const result = await resumeState(rt, from);
        for (const [stream, cursor] of Object.entries(result.checkpoints))
          console.log(
            cursor
              ? `${stream}: reads again from ${DateTime.fromSeconds(from!, { zone }).toFormat('yyyy-MM-dd HH:mm:ss')} (${zone})`
              : `${stream}: reads again from the start of the vendor table`,
          );
        if (result.recreated.length) console.log(`re-created: ${result.recreated.join(', ')}`);
        console.log(
          `state marker ${result.marker.id} written: running workers poll again within ` +
            `${Math.round(config.pipeline.stateCheckEveryMs / 1000)} s (at their next poll). Lots and counts are sent ` +
            'again by their next poll; `isp-park-sync full-sync` does it now.',
        );
      } finally {
        await rt.close();
      }
    });
}
