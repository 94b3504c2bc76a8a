/** `full-sync`: queues the nightly full sync now (all lots, all spot counts, deletions). */
import { Command } from 'commander';
import { createQueues, createRedis } from '../pipeline/queues.js';
import { LotChangeStore } from '../state/lot-changes.js';
import { configToChange } from './source-scope.js';

export function fullSyncCommand(): Command {
  return new Command('full-sync')
    .description('push every lot and spot count now and delete vanished lots (a worker carries it out)')
    .option(
      '--confirm-deletes',
      'the lots the mass-deletion guard held back really are gone: delete them at ISP in this pass',
    )
    .action(async (flags: { confirmDeletes?: boolean }) => {
      const config = configToChange('full-sync');
      const queues = createQueues(config);
      try {
        if (flags.confirmDeletes) {
          const redis = createRedis(config);
          try {
            const lots = new LotChangeStore(redis, config.redis.prefix);
            const guard = await lots.guard('parks');
            await lots.confirmDeletes('parks');
            console.log(
              guard
                ? `confirmed: the next pass deletes the ${guard.wouldDelete} lots the guard held back (${guard.reason})`
                : 'confirmed: the next pass deletes vanished lots even beyond the mass-deletion guard',
            );
          } finally {
            await redis.quit();
          }
        }
        const job = await queues.fullSync.add(
          'full-sync',
          { reason: 'manual' },
          { removeOnComplete: { count: 30 } },
        );
        console.log(
          `full sync queued (job ${job.id}); a running worker with the scheduler role carries it out`,
        );
      } finally {
        await queues.close();
      }
    });
}
