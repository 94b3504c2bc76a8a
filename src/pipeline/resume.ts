/**
 * An operator's decision after Redis lost the worker's state (src/pipeline/state-guard.ts): every
 * event stream's checkpoint set to just before a time (or left empty: the whole history), the job
 * schedulers put back, and a new state marker (origin `resume`) with the loss record removed, so
 * running workers poll again. Lot streams need nothing: they are read whole and sent again once
 * (their fingerprints were lost too). Writes only our own Redis keys.
 */

import { type StateMarker, StateMarkerStore } from '../state/state-marker.js';
import { vendorTimeOf } from '../vendor-db/zone.js';
import type { Runtime } from './runtime.js';
import { ensureSchedules } from './schedules.js';
import { EVENT_STREAM_NAMES } from './streams.js';

export interface ResumeResult {
  marker: StateMarker;
  checkpoints: Record<string, { time: string; id: string } | null>;
  recreated: string[];
}

/**
 * `from`: Unix s; every event at or after it is read again (with epoch-second cursors, from one
 * second before it). null: from the start of the vendor tables.
 */
export async function resumeState(rt: Runtime, from: number | null): Promise<ResumeResult> {
  const checkpoints: ResumeResult['checkpoints'] = {};
  for (const stream of EVENT_STREAM_NAMES) {
    // A low-latency sweep starts again from where the live read starts (set at its next poll).
    await rt.progress.clearSweptUpTo(stream);
    if (from === null) {
      await rt.checkpoints.reset(stream);
      checkpoints[stream] = null;
      continue;
    }
    const cfg = rt.config.streams[stream];
    // Keyset reads take rows after (time, id): a cursor a millisecond (epoch-s: a second) before
    // `from`, with the smallest id, reads every row at `from` and after.
    const before = cfg.timeFormat === 'epoch-s' ? from - 1 : from - 0.001;
    const cursor = { time: String(vendorTimeOf(before, cfg.timeFormat, rt.config.vendor.timeZone)), id: '' };
    await rt.checkpoints.set(stream, cursor, { force: true });
    await rt.progress.setCaughtUp(stream, from);
    checkpoints[stream] = cursor;
  }
  const recreated = await ensureSchedules(rt.config, rt.queues);
  const marker = await new StateMarkerStore(rt.redis, rt.config.redis.prefix).resume(from);
  return { marker, checkpoints, recreated };
}
