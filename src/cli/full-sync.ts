/** `full-sync`: queues the nightly full sync now (all lots, all spot counts, deletions). */
import { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { createQueues } from '../pipeline/queues.js';

export function fullSyncCommand(): Command {
  return new Command('full-sync')
    .description('push every lot and spot count now and delete vanished lots (a worker carries it out)')
    .action(async () => {
      const config = loadConfig();
      const queues = createQueues(config);
      try {
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
