/**
 * `start`: runs the worker (all roles, or some) for every source of the config, with the dashboard
 * when the web role is on. Sources are read again on SIGHUP and when the sources folder changes.
 */
import { Command, Option } from 'commander';
import { Fleet } from '../../jobs/fleet.js';
import { onShutdown } from '../../jobs/shutdown.js';
import { watchSources } from '../../jobs/source-watch.js';
import { ROLES, type Role } from '../../jobs/workers.js';
import { loadSources } from '../config/index.js';
import { createLogger } from '../log.js';
import { waitForRedis } from '../pipeline/reachability.js';
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
      const load = () => loadSources({ require: 'start' });
      const resolved = load();
      // What is not a source's (Redis, memory, log, web) is the same in every source's config.
      const shared = resolved.configs[0] ?? resolved.problems[0]?.error;
      if (!shared || shared instanceof Error) throw shared;
      applyMemorySettings(shared.memory);
      const logger = createLogger(shared.log.level);
      // Redis may still be starting (a reboot, a container started alongside): wait for it with
      // one line per attempt, before any BullMQ client exists to report the outage many times.
      await waitForRedis(shared.redis.url, logger);
      const roles = new Set<Role>(options.role ?? ROLES);
      const fleet = await Fleet.start(resolved, { roles, logger });
      const watch = watchSources(fleet, load, { ...(resolved.dir ? { dir: resolved.dir } : {}), logger });
      let web: { close(): Promise<void>; url: string } | undefined;
      if (options.web) {
        const { startDashboard } = await import('../web/dashboard.js');
        web = await startDashboard(fleet, { config: shared, logger });
        logger.info({ url: web.url }, 'dashboard listening');
      }
      logger.info(
        {
          roles: [...roles],
          redis: redactUrl(shared.redis.url),
          sources: fleet.sources().map((s) => ({
            name: s.name,
            vendor: redactUrl(s.config.vendor.url),
            isp: s.config.isp.baseUrl,
          })),
          ...(resolved.dir ? { sourcesDir: resolved.dir } : {}),
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
        watch.close();
        await web?.close();
        await fleet.close();
      });
    });
}
