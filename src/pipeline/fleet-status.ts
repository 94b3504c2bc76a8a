/**
 * The status of every source a process runs (src/pipeline/status-types.ts, `FleetStatus`): each
 * running source's snapshot read as `collectStatus` reads one, and the sources not running with
 * their reason. A source whose facts cannot be read (its Redis down) is reported with the error;
 * the others are still read. Reads only.
 */
import type { FleetView } from './fleet-view.js';
import { collectStatus, version } from './status.js';
import type { FleetStatus, SourceStatus } from './status-types.js';

export async function collectFleetStatus(
  fleet: FleetView,
  options: { probeIsp?: boolean; nowMs?: number } = {},
): Promise<FleetStatus> {
  const nowMs = options.nowMs ?? Date.now();
  const sources = await Promise.all(
    fleet.sources().map(async (source): Promise<SourceStatus> => {
      const startedAt = Math.floor(source.startedAt / 1000);
      try {
        const status = await collectStatus(source.rt, { ...options, nowMs });
        return { name: source.name, startedAt, status, error: null };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return { name: source.name, startedAt, status: null, error: message };
      }
    }),
  );
  return {
    generatedAt: Math.floor(nowMs / 1000),
    version,
    sources,
    idle: fleet.idle().map((s) => ({
      name: s.name,
      state: s.state,
      reason: s.reason,
      since: Math.floor(s.since / 1000),
    })),
  };
}
