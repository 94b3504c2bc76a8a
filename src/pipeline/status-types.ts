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
  /** Records delivered per minute, all streams, over the last `chartHours` hours (oldest first). */
  deliveredPerMinute: Array<{ minute: number; count: number }>;
  chartHours: number;
  /** Unix seconds of the next nightly full sync, when scheduled. */
  nextFullSync: number | null;
}
