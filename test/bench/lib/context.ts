/**
 * What every benchmark group gets from the runner: its sizes, a log line printer, and the place
 * results and notes go. Groups read earlier results (the ceilings) from here.
 */
import type { Result } from './report.js';

export interface Sizes {
  ingest: { records: number; batch: number; inflight: number; rounds: number };
  transform: { rows: number; rounds: number };
  sharp: { photos: number; rounds: number; concurrency: number };
  reader: { rounds: number };
  /** Visits preloaded for the no-photo throughput, scale-out, vendor cost and baseline. */
  throughput: { visits: number; runs: number; deadlineSeconds: number; idleSeconds: number };
  scaleout: { runs: number };
  baseline: { seconds: number; runs: number };
  photosSmall: {
    visits: number;
    photos: number;
    runs: number;
    deadlineSeconds: number;
    /** Records per round of the photo-carrying ingest ceiling. */
    ceilingRecords: number;
  };
  photosOversize: { visits: number; runs: number; deadlineSeconds: number };
  /** `history`: visits seeded and delivered before the traffic; `idleSeconds`: the idle reads' window. */
  latency: { rate: number; seconds: number; runs: number; history: number; idleSeconds: number };
  catchup: { visits: number; days: number; outageSeconds: number; deadlineSeconds: number };
  /** One vendor day reconciled: visits (~1.9 events each), lots; one lot's events a day for the memory figure. */
  reconcile: { visits: number; lots: number; lotEventsPerDay: number };
  /**
   * The fleet group: live traffic (events/s, seconds per window) beside a backlog (events); the
   * scale-out backlog (events), ISP delay (ms) and connections per process; idle sources, window.
   */
  fleet: {
    rate: number;
    seconds: number;
    backlogEvents: number;
    runs: number;
    scaleoutEvents: number;
    latencyMs: number;
    connections: number;
    scaleoutRuns: number;
    deadlineSeconds: number;
    idleSources: number;
    idleSeconds: number;
    settleSeconds: number;
  };
}

export interface BenchContext {
  mode: 'full' | 'quick';
  sizes: Sizes;
  log(message: string): void;
  add(result: Result): void;
  note(text: string): void;
  get(id: string): Result | undefined;
  /** The command reproducing a group's figures, e.g. `npm run bench -- --only throughput`. */
  command(group: string): string;
}
