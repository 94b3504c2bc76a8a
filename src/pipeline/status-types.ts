/**
 * The status facts shown by the status page, `/api/status` and the `status` command. This shape
 * is the documented, stable API: add fields, never rename or remove them.
 */

import type { StreamName } from '../config/index.js';
import type { ReconcileGrid } from './reconcile/nightly.js';
import type { RecentDay } from './report/recent-days.js';

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

export interface StreamStatus {
  stream: StreamName;
  /** Vendor cursor of the last row read (event streams), as the vendor DB shows it. */
  checkpoint: { time: string; id: string } | null;
  /** Unix seconds up to which every vendor row has been read and handed on. */
  readUpTo: number | null;
  /** Seconds between now and readUpTo (null before the first poll). */
  lagSeconds: number | null;
  /** `total`: since the prefix was first used, kept in Redis (a restart does not reset it). */
  delivered: { lastHour: number; lastDay: number; total: number };
  /** `recoveredAt`: when the stream worked again after it (Unix s), null while it has not. */
  lastError: { at: number; message: string; recoveredAt: number | null } | null;
  push: QueueCounts;
  /** Failed push jobs: records ISP rejected, or that gave up retrying; replayable. */
  failed: number;
  quarantined: number;
  /**
   * A stream with `probeIdGaps`: ids below the highest read that are not read yet (rows not yet
   * committed, or holes a rollback left), and the age of the oldest, s. Each is looked up at every
   * poll and dropped after `commitLagSeconds`. Null for a stream that does not probe.
   */
  idGaps: { open: number; oldestSeconds: number | null } | null;
}

export interface LotStatus {
  parkCode: string;
  lastEntrance: number | null;
  lastDeparture: number | null;
  lastSpotNum: { at: number; total: number; remain: number; used: number } | null;
}

/** Where the lots stand at ISP: what waits, what is held, what the mass-deletion guard stopped. */
export interface LotLifecycleStatus {
  registered: number;
  pending: number;
  deleted: number;
  /** Lot and count states dropped because a newer one was already pending or delivered. */
  superseded: number;
  /** Vanished lots whose DELETE waits, and why. */
  deleteWaits: Array<{ parkCode: string; reason: string }>;
  /** Events held until ISP registers their lot. */
  held: Array<{ parkCode: string; events: number; reason: string; since: number }>;
  /** Set while the mass-deletion guard holds deletions back. */
  deleteGuard: {
    at: number;
    wouldDelete: number;
    registered: number;
    reason: string;
    codes: string[];
  } | null;
}

export type { ReconcileGrid };
export interface HealthAlertStatus {
  alert: string;
  lot: string;
  stream: string;
  reason: string;
  since: number;
}

export interface StatusSnapshot {
  /** Unix seconds. */
  generatedAt: number;
  version: string;
  isp: {
    /** Base URL without credentials. */
    baseUrl: string;
    reachable: boolean | null;
    /**
     * The workers' token, as they recorded it in Redis: valid while its expiry is ahead;
     * `expiresInSeconds` whole seconds; `error` the last failure to get one (cleared by a fetch).
     */
    token: {
      valid: boolean;
      expiresAt: number | null;
      expiresInSeconds: number | null;
      error: { at: number; message: string } | null;
    };
  };
  /** The vendor's zone, in which every time is shown. */
  timeZone: string;
  /**
   * The worker's state in Redis: `marker` false when no worker has run with this prefix (or its
   * state was lost before any worker noticed); `lost` the recorded loss and what to do.
   */
  state: { marker: boolean; lost: { at: number; reason: string; advice: string } | null };
  /** Conditions an operator should act on, each saying what to do (empty when all is well). */
  alerts: string[];
  /**
   * Lot health alerts active now (docs/operations.md, "Lot health alerts"), oldest first: `lot`
   * and `stream` '' when the alert is about neither; `since` when it fired (Unix s).
   */
  healthAlerts: HealthAlertStatus[];
  streams: StreamStatus[];
  lots: LotStatus[];
  lotLifecycle: LotLifecycleStatus;
  /** The vendor database's clock minus this host's, whole seconds, as the last event poll measured it. */
  vendorClock: { skewSeconds: number; at: number } | null;
  /** Records delivered per minute, all streams, over the last `chartHours` hours (oldest first). */
  deliveredPerMinute: Array<{ minute: number; count: number }>;
  chartHours: number;
  /** The last 14 days (vendor zone), oldest first: delivered, and completeness from nightly reconciles. */
  recentDays: RecentDay[];
  /** Unix seconds of the next nightly full sync, when scheduled. */
  nextFullSync: number | null;
  /** The nightly reconciles kept (`reconcile.pageDays` latest): a lot × day grid; none run yet: no days. */
  reconcile?: ReconcileGrid;
}

/** A running source's facts: its snapshot, or why it could not be read (the others still are). */
export interface SourceStatus {
  name: string;
  /** When this process started the source (Unix s). */
  startedAt: number;
  status: StatusSnapshot | null;
  /** Set when `status` is null: what failed reading it. */
  error: string | null;
}

/** A source this process does not run, and why (its state and failed jobs stay in Redis). */
export interface IdleSourceStatus {
  name: string;
  /** `removed` from the config, `refused` (a park code of another source), `invalid` config. */
  state: 'removed' | 'refused' | 'invalid';
  reason: string;
  /** Since when (Unix s). */
  since: number;
}

/** Every source of the process: what the dashboard shows. */
export interface FleetStatus {
  /** Unix seconds. */
  generatedAt: number;
  version: string;
  /** The running sources, in name order. */
  sources: SourceStatus[];
  idle: IdleSourceStatus[];
}
