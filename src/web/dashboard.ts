/**
 * Serves the operator web server (src/web) over the sources this process runs: every source's
 * queues on the board, its section on the status page, its checks in `/readyz`. A caller that runs
 * one Runtime itself passes `singleSource(rt, readiness)` (src/pipeline/fleet-view.ts).
 */

import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { showActiveAlerts } from '../metrics.js';
import { collectFleetStatus } from '../pipeline/fleet-status.js';
import type { FleetView } from '../pipeline/fleet-view.js';
import { fleetReadiness } from './fleet-readiness.js';
import { startWebServer, type WebServer } from './server.js';

export interface DashboardOptions {
  /**
   * The deployment's config for what is not a source's (web: host, port, credentials; the zone of
   * the board's times). Default: the first running source's, which shares them.
   */
  config?: Config;
  /** Default: the first running source's logger. */
  logger?: Logger;
}

/** `/healthz` says only that the process is alive; `/readyz` that every running source is ready. */
export async function startDashboard(fleet: FleetView, options: DashboardOptions = {}): Promise<WebServer> {
  const first = fleet.sources()[0];
  const config = options.config ?? first?.config;
  if (!config)
    throw new Error('no source is running: the dashboard takes its web settings from one (pass config)');
  const logger = options.logger ?? first?.rt.logger;
  // Each running source's active alerts in the gauge, each source's series on their own; a source
  // removed since the last scrape shows none (its alerts are not evaluated any more).
  let shown = new Set<string>();
  const showEveryonesAlerts = async () => {
    const running = fleet.sources();
    const results = await Promise.allSettled(
      running.map(async (s) => showActiveAlerts(s.name, [...(await s.rt.health.active()).values()])),
    );
    const names = new Set(running.map((s) => s.name));
    for (const name of shown) if (!names.has(name)) showActiveAlerts(name, []);
    shown = names;
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  return startWebServer({
    config,
    ...(logger ? { logger } : {}),
    sources: () =>
      fleet.sources().map((s) => ({ name: s.name, config: s.config, queues: s.rt.queues.all() })),
    onSourcesChange: (listener) => fleet.onChange(listener),
    status: () => collectFleetStatus(fleet, { probeIsp: true }),
    beforeMetrics: () => showEveryonesAlerts(),
    health: async () => ({ ok: true, details: { status: 'alive' } }),
    ready: () => fleetReadiness(fleet),
  });
}
