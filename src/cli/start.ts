/** `start`: runs the worker (all roles, or some), with the dashboard when the web role is on. */
import { Command, Option } from 'commander';
import { readiness } from '../../jobs/readiness.js';
import { checkRedis } from '../../jobs/redis-preflight.js';
import { onShutdown } from '../../jobs/shutdown.js';
import { ROLES, type Role, startWorkers } from '../../jobs/workers.js';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../log.js';
import { waitForRedis } from '../pipeline/reachability.js';
import { createRuntime } from '../pipeline/runtime.js';
import { redactUrl } from '../redact.js';
import { applyMemorySettings, WORKER_NODE_FLAGS, youngGenerationSet } from './memory.js';

export function startCommand(): Command {
  return new Command('start')
    .description('run the worker: poll the vendor DB and push to ISP (all roles unless --role)')
    .addOption(new Option('--role <roles...>', 'roles of this process').choices([...ROLES]))
    .option('--no-web', 'do not serve the dashboard from this process')
    .action(async (options: { role?: Role[]; web: boolean }) => {
      // The ISP, its credentials and the vendor database must be the deployment's own (exit 78 naming
      // each missing variable); default.yaml's loopback values are for the tools on one machine.
      const config = loadConfig({ require: 'start' });
      applyMemorySettings(config.memory);
      const logger = createLogger(config.log.level);
      // Redis may still be starting (a reboot, a container started alongside): wait for it with
      // one line per attempt, before any BullMQ client exists to report the outage many times.
      await waitForRedis(config.redis.url, logger);
      const rt = createRuntime(config, { logger });
      await checkRedis(rt.redis);
      const roles = new Set<Role>(options.role ?? ROLES);
      const startedAt = Date.now();
      const running = await startWorkers(rt, roles);
      let web: { close(): Promise<void>; url: string } | undefined;
      if (options.web) {
        const { startDashboard } = await import('../web/dashboard.js');
        web = await startDashboard(rt, () => readiness(rt, { ...running, startedAt }));
        logger.info({ url: web.url }, 'dashboard listening');
      }
      logger.info(
        {
          roles: [...roles],
          redis: redactUrl(config.redis.url),
          vendor: redactUrl(config.vendor.url),
          isp: config.isp.baseUrl,
        },
        'isp-park-sync started',
      );
      if (!youngGenerationSet()) {
        logger.info(
          { recommended: WORKER_NODE_FLAGS.join(' ') },
          'node runs with its default young generation: garbage collection costs ~10% more CPU per event ' +
            'while draining a backlog; run node with the recommended flags (as the Dockerfile and `npm start` do)',
        );
      }
      onShutdown(logger, async () => {
        await web?.close();
        await running.close();
        await rt.close();
      });
    });
}
