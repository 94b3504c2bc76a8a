/** Serves the operator web server (src/web) with this process's runtime and workers. */

import type { Runtime } from '../pipeline/runtime.js';
import { collectStatus } from '../pipeline/status.js';
import { startWebServer, type WebDeps, type WebServer } from './server.js';

/** `health`: this process's worker health (jobs are consumed), when it runs workers. */
export async function startDashboard(rt: Runtime, health?: WebDeps['health']): Promise<WebServer> {
  return startWebServer({
    config: rt.config,
    queues: rt.queues.all(),
    logger: rt.logger,
    status: () => collectStatus(rt, { probeIsp: true }),
    health: health ?? (async () => ({ ok: true, details: { workers: [] } })),
    ready: async () => {
      const checks: Record<string, { ok: boolean; message?: string }> = {};
      const probe = async (name: string, fn: () => Promise<unknown>) => {
        try {
          await fn();
          checks[name] = { ok: true };
        } catch (error) {
          checks[name] = { ok: false, message: (error as Error).message };
        }
      };
      await Promise.all([
        probe('redis', () => rt.redis.ping()),
        probe('mysql', () => rt.vendor.query('SELECT 1', [], 'readiness probe')),
        probe('isp', async () => {
          if (!(await rt.isp.ping())) throw new Error(`ISP at ${rt.config.isp.baseUrl} does not answer`);
        }),
        probe('lot-deletions', async () => {
          const guard = await rt.lotChanges.guard('parks');
          if (guard)
            throw new Error(
              `mass-deletion guard: nothing deleted: ${guard.reason}; confirm with \`full-sync --confirm-deletes\` or fix the vendor database`,
            );
        }),
      ]);
      return { ok: Object.values(checks).every((c) => c.ok), checks };
    },
  });
}
