/**
 * The low-latency sweep's rules: the read-mark slices, its bounds (the live checkpoint, the
 * followed stream's gate, the commit-lag guard), how far it may say it has swept, and one sweep on
 * an in-memory table: only rows the live poll never read are handed on, each key read once.
 */
import { describe, expect, it } from 'vitest';
import type { Cursor } from '../../../src/config/vendor-rows.js';
import type { PushJobSpec } from '../../../src/pipeline/events/page.js';
import {
  cursorSlice,
  liveComplete,
  type SweepDeps,
  sweepEvents,
  sweepUpper,
  sweptAfter,
} from '../../../src/pipeline/events/sweep.js';
import { testTransform } from '../../helpers/records.js';

describe('cursorSlice', () => {
  it('gives the rows of one 10 s window the same slice, whatever the text carries', () => {
    expect(cursorSlice('2026-12-03 10:00:00', 'datetime')).toBe(
      cursorSlice('2026-12-03 10:00:09.999', 'datetime'),
    );
    expect(cursorSlice('2026-12-03 10:00:10', 'datetime')).toBe(
      cursorSlice('2026-12-03 10:00:00', 'datetime') + 1,
    );
    expect(cursorSlice('1796285609', 'epoch-s')).toBe(179628560);
    expect(cursorSlice('1796285609123', 'epoch-ms')).toBe(179628560);
  });
  it('puts what does not parse (a zero date) in slice 0 on both sides', () => {
    expect(cursorSlice('0000-00-00 00:00:00', 'datetime')).toBe(0);
    expect(cursorSlice('', 'epoch-s')).toBe(0);
  });
});

describe('sweep bounds', () => {
  const live = { time: '100', id: '7' };
  it('stops at the live checkpoint, or before the gate when that is earlier', () => {
    expect(sweepUpper(live, 100, undefined)).toEqual({ cursor: live, time: 100 });
    expect(sweepUpper(live, 100, 120)).toEqual({ cursor: live, time: 100 });
    expect(sweepUpper(live, 100, 90)).toEqual({ time: 90 });
  });
  it('counts the live read complete up to its checkpoint, or its last short read less the lag', () => {
    expect(liveComplete(100, 130, 5)).toBe(125);
    expect(liveComplete(100, 102, 5)).toBe(100);
    expect(liveComplete(100, undefined, 5)).toBe(100);
  });
  it('sweeps a full page to its last row, a short one to the tightest bound, never back', () => {
    expect(sweptAfter(50, { full: true, lastEpoch: 80 }, 200, undefined, 300)).toBe(80);
    expect(sweptAfter(50, { full: false, lastEpoch: 80 }, 200, undefined, 300)).toBe(200);
    expect(sweptAfter(50, { full: false, lastEpoch: 80 }, 200, 150, 300)).toBe(150);
    expect(sweptAfter(50, { full: false, lastEpoch: undefined }, 200, 150, 120)).toBe(120);
    expect(sweptAfter(50, { full: false, lastEpoch: undefined }, 40, undefined, 300)).toBe(50);
  });
});

interface Row {
  vendorKey: string;
  cursorTime: string;
  t: number;
}

const cmp = (a: Cursor, b: Cursor) => Number(a.time) - Number(b.time) || Number(a.id) - Number(b.id);

/** A table of rows (id i+1 at time ts[i]); `read`: ids the live poll read; the live checkpoint. */
function table(ts: number[], read: number[], live: Cursor, options: { guard: number; readUpTo?: number }) {
  const rows: Row[] = ts.map((t, i) => ({ vendorKey: String(i + 1), cursorTime: String(t), t }));
  const marks = new Set(read.map(String));
  const handed: PushJobSpec[] = [];
  const state: { swept: number | undefined; keysRead: number; rowsFetched: number } = {
    swept: undefined,
    keysRead: 0,
    rowsFetched: 0,
  };
  const deps: SweepDeps<Row> = {
    stream: 'entrances',
    pageSize: 3,
    maxItemsPerJob: 100,
    maxQueueDepth: 10,
    budgetMs: 10_000,
    lowLatency: true,
    sweptUpTo: async () => state.swept,
    setSweptUpTo: async (e) => {
      state.swept = e;
    },
    clearSweptUpTo: async () => {
      state.swept = undefined;
    },
    liveCheckpoint: async () => live,
    liveReadUpTo: async () => options.readUpTo,
    lagSeconds: 5,
    readBound: async () => options.guard,
    readKeys: async (after, from, limit, upper) => {
      const page = rows
        .map((r) => ({ time: r.cursorTime, id: r.vendorKey }))
        .filter((c) => (after ? cmp(c, after) > 0 : Number(c.time) >= from))
        .filter((c) => Number(c.time) < options.guard)
        .filter((c) => ('cursor' in upper ? cmp(c, upper.cursor) <= 0 : Number(c.time) < upper.time))
        .slice(0, limit);
      state.keysRead += page.length;
      return { rows: page, last: page.at(-1) ?? null, full: page.length >= limit };
    },
    wasRead: async (keys) => keys.map((k) => marks.has(k.id)),
    markRead: async (keys) => {
      for (const k of keys) marks.add(k.id);
    },
    readRows: async (keys) => {
      state.rowsFetched += keys.length;
      return rows.filter((r) => keys.some((k) => k.id === r.vendorKey));
    },
    transform: testTransform<Row>(() => false),
    cursorEpoch: (c) => Number(c.time),
    quarantine: async () => {},
    enqueue: async (jobs) => {
      handed.push(...jobs);
    },
    queueDepth: async () => 0,
  };
  return { deps, state, handed };
}

describe('sweepEvents', () => {
  it('hands on only the rows the live poll never read, fetching only those', async () => {
    // Ids 1..8; the live poll read all but 3 and 6 (committed late), checkpoint at id 8.
    const { deps, state, handed } = table(
      [10, 11, 12, 13, 14, 15, 16, 17],
      [1, 2, 4, 5, 7, 8],
      { time: '17', id: '8' },
      {
        guard: 100,
      },
    );
    state.swept = 0;
    const result = await sweepEvents(deps);
    expect(handed.flatMap((j) => j.records.map((r) => r.vendorKey))).toEqual(['3', '6']);
    expect(result.late).toBe(2);
    expect(state.keysRead).toBe(8);
    expect(state.rowsFetched).toBe(2);
    // Up to the live checkpoint (the guard is far ahead).
    expect(state.swept).toBe(17);

    // Again: nothing new, nothing handed on twice (the late rows are marked now).
    await sweepEvents(deps);
    expect(handed.flatMap((j) => j.records.map((r) => r.vendorKey))).toEqual(['3', '6']);
  });

  it('reads nothing past the commit-lag guard, and says so', async () => {
    const { deps, state, handed } = table(
      [10, 11, 20, 21],
      [1, 2, 4],
      { time: '21', id: '4' },
      { guard: 15 },
    );
    state.swept = 0;
    await sweepEvents(deps);
    expect(handed).toEqual([]);
    expect(state.swept).toBe(15);
  });

  it('does nothing while no sweep is due', async () => {
    const { deps, state, handed } = table([10, 11], [], { time: '11', id: '2' }, { guard: 100 });
    const result = await sweepEvents(deps);
    expect(result.stoppedBy).toBe('idle');
    expect(handed).toEqual([]);
    expect(state.keysRead).toBe(0);
  });

  it('ends for good in guarded mode once it has reached the live checkpoint', async () => {
    const { deps, state, handed } = table([10, 11, 12], [1, 3], { time: '12', id: '3' }, { guard: 100 });
    state.swept = 0;
    const result = await sweepEvents({ ...deps, lowLatency: false });
    expect(handed.flatMap((j) => j.records.map((r) => r.vendorKey))).toEqual(['2']);
    expect(result.stoppedBy).toBe('finished');
    expect(state.swept).toBeUndefined();
  });
});
