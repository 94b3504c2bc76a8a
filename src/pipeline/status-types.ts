/**
 * The status facts shown by the status page, `/api/status` and the `status` command. This shape
 * is the documented, stable API: add fields, never rename or remove them.
 */
import type { StreamName } from '../config/index.js';

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
  delivered: { lastHour: number; lastDay: number };
  lastError: { at: number; message: string } | null;
  push: QueueCounts;
  /** Failed push jobs: records ISP rejected, or that gave up retrying; replayable. */
  failed: number;
  quarantined: number;
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

export interface StatusSnapshot {
  /** Unix seconds. */
  generatedAt: number;
  version: string;
  isp: {
    /** Base URL without credentials. */
    baseUrl: string;
    reachable: boolean | null;
    token: { valid: boolean; expiresAt: number | null };
  };
  streams: StreamStatus[];
  lots: LotStatus[];
  lotLifecycle: LotLifecycleStatus;
  /** Records delivered per minute, all streams, over the last `chartHours` hours (oldest first). */
  deliveredPerMinute: Array<{ minute: number; count: number }>;
  chartHours: number;
  /** Unix seconds of the next nightly full sync, when scheduled. */
  nextFullSync: number | null;
}
