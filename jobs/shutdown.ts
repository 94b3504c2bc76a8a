/**
 * Graceful shutdown: the first SIGTERM/SIGINT stops taking work, lets active jobs finish (their
 * locks are released, or, if this takes too long, BullMQ's stalled check hands them to another
 * worker) and closes connections; a second signal exits at once. Nothing is lost either way: the
 * checkpoint only moves after jobs are enqueued, and unfinished jobs stay in Redis.
 */
import type { Logger } from '../src/log.js';

export function onShutdown(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now; active jobs will be retried by another worker');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'stopping: finishing active jobs (send the signal again to exit at once)');
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
