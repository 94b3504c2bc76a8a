/** Serves the operator web server (src/web) with this process's runtime and workers. */

import { showActiveAlerts } from '../metrics.js';
import type { Runtime } from '../pipeline/runtime.js';
import { collectStatus } from '../pipeline/status.js';
import { startWebServer, type WebDeps, type WebServer } from './server.js';

/**
 * `ready`: this process's readiness (jobs/readiness.ts, composed by the caller); without it, only
 * Redis and the vendor database are probed. `/healthz` says only that the process is alive.
 */
export async function startDashboard(rt: Runtime, ready?: WebDeps['ready']): Promise<WebServer> {
  return startWebServer({
    config: rt.config,
    queues: rt.queues.all(),
    logger: rt.logger,
    status: () => collectStatus(rt, { probeIsp: true }),
    beforeMetrics: async () =>
      showActiveAlerts(rt.config.source.name, [...(await rt.health.active()).values()]),
    health: async () => ({ ok: true, details: { status: 'alive' } }),
    ready:
      ready ??
      (async () => {
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
        ]);
        return { ok: Object.values(checks).every((c) => c.ok), checks };
      }),
  });
}
