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
