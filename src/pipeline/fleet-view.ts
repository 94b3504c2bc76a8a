/**
 * What a process runs, source by source, as the dashboard and status see it: each running source
 * with its Runtime (its own vendor pool, ISP client, queues and state), and the sources that were
 * removed or could not start (their state stays in Redis). Made by `jobs/fleet.ts`.
 */
import type { Config } from '../config/index.js';
import type { Runtime } from './runtime.js';

/** A readiness verdict (`/readyz`, jobs/readiness.ts), as the dashboard shows it. */
export interface SourceReadiness {
  ok: boolean;
  checks: Record<
    string,
    { ok: boolean; message?: string; informational?: boolean; details?: Record<string, unknown> }
  >;
}

export interface FleetSource {
  name: string;
  config: Config;
  rt: Runtime;
  startedAt: number;
  /** This source's readiness in this process (its Redis, vendor database, schedulers, polls, workers). */
  readiness(): Promise<SourceReadiness>;
}

/** A source that is not running here, and why (removed on purpose, refused, failed to start). */
export interface IdleSource {
  name: string;
  state: 'removed' | 'refused' | 'invalid';
  reason: string;
  since: number;
}

export interface FleetView {
  /** The running sources, in name order. */
  sources(): FleetSource[];
  idle(): IdleSource[];
  /** Called after sources were added, removed or changed (the dashboard lists their queues again). */
  onChange(listener: () => void): () => void;
}

/**
 * One Runtime seen as a fleet of one source, for a caller that runs a single source itself (the
 * demo, tests). Nothing is added or removed at run time, so `onChange` never calls back.
 * `readiness`: the source's whole verdict (jobs/readiness.ts, composed by the caller); without it,
 * only Redis and the vendor database are probed.
 */
export function singleSource(
  rt: Runtime,
  readiness?: () => Promise<SourceReadiness>,
  startedAt = Date.now(),
): FleetView {
  const source: FleetSource = {
    name: rt.config.source.name,
    config: rt.config,
    rt,
    startedAt,
    readiness: readiness ?? (() => reachability(rt)),
  };
  return {
    sources: () => [source],
    idle: () => [],
    onChange: () => () => undefined,
  };
}

/** Whether Redis and the vendor database answer: the readiness of a Runtime without workers. */
async function reachability(rt: Runtime): Promise<SourceReadiness> {
  const checks: SourceReadiness['checks'] = {};
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
}
