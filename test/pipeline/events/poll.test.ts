/**
 * The rules of one event poll, on an in-memory stream with a fake clock: pages until caught up,
 * jobs within the item bound, the checkpoint only after the enqueue, quarantine of bad rows,
 * backpressure, and the gate (the departure stream waiting for the entrance watermark).
 */
import { describe, expect, it } from 'vitest';
import type { Cursor } from '../../../src/config/vendor-rows.js';
import type { PushJobSpec } from '../../../src/pipeline/events/page.js';
import {
  GATE_CHECK_MS,
  GATE_NOT_STARTED,
  GATE_WAIT_WITHIN_S,
  gateLookIn,
  type PollEventsDeps,
  pollEvents,
} from '../../../src/pipeline/events/poll.js';
import { testTransform } from '../../helpers/records.js';

interface Row {
  vendorKey: string;
  cursorTime: string;
  /** Unix seconds. */
  t: number;
  bad?: boolean;
}

function rowsAt(times: number[], bad: number[] = []): Row[] {
  return times.map((t, i) => ({
    vendorKey: String(i + 1),
    cursorTime: String(t),
    t,
    ...(bad.includes(i + 1) ? { bad: true } : {}),
  }));
}

/** An in-memory stream: reads `t < min(bound, upTo)` after the cursor, ordered by (t, id). */
function fakeStream(
  rows: Row[],
  options: { bound?: number; gate?: () => number | undefined; depth?: number; checkpoint?: Cursor } = {},
) {
  let clock = 0;
  const log: string[] = [];
  const jobs: PushJobSpec[] = [];
  const quarantined: string[] = [];
  let checkpoint: Cursor | null = options.checkpoint ?? null;
  let caughtUp: number | undefined;
  const bound = options.bound ?? Number.POSITIVE_INFINITY;
  const deps: PollEventsDeps<Row> = {
    stream: 'departures',
    pageSize: 3,
    maxItemsPerJob: 2,
    maxQueueDepth: 10,
    budgetMs: 5_000,
    getCheckpoint: async () => checkpoint,
    setCheckpoint: async (c) => {
      log.push(`checkpoint ${c.id}`);
      checkpoint = c;
    },
    readBound: async () => bound,
    ...(options.gate ? { gateUpTo: async () => options.gate!() } : {}),
    readPage: async (after, limit, upTo) => {
      const limitTime = Math.min(bound, upTo ?? Number.POSITIVE_INFINITY);
      const start = after ? rows.findIndex((r) => r.vendorKey === after.id) + 1 : 0;
      const page = rows
        .slice(start)
        .filter((r) => r.t < limitTime)
        .slice(0, limit);
      log.push(`read ${page.map((r) => r.vendorKey).join(',') || '-'}${clock ? ` at ${clock}` : ''}`);
      const last = page.at(-1);
      return {
        rows: page,
        last: last ? { time: last.cursorTime, id: last.vendorKey } : null,
        full: page.length >= limit,
      };
    },
    transform: testTransform((row) => row.bad === true),
    cursorEpoch: (c) => Number(c.time),
    quarantine: async (row) => {
      quarantined.push(row.vendorKey);
    },
    enqueue: async (specs) => {
      log.push(`enqueue ${specs.map((j) => j.records.map((r) => r.vendorKey).join('+')).join(' ')}`);
      jobs.push(...specs);
    },
    queueDepth: async () => options.depth ?? 0,
    setCaughtUp: async (epoch) => {
      caughtUp = epoch;
    },
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
  };
  return {
    deps,
    log,
    jobs,
    quarantined,
    get caughtUp() {
      return caughtUp;
    },
    get clock() {
      return clock;
    },
  };
}

describe('pollEvents', () => {
  it('tells each hand-on whether its page was full (a backlog) or short (caught up)', async () => {
    const s = fakeStream(rowsAt([10, 10, 11, 12, 13, 14, 15]), { bound: 100 });
    const pages: string[] = [];
    s.deps.enqueue = async (specs, page) => {
      pages.push(`${specs.map((j) => j.records.map((r) => r.vendorKey).join('+')).join(' ')}: ${page?.full}`);
    };
    await pollEvents(s.deps);
    expect(pages).toEqual(['1+2 3: true', '4+5 6: true', '7: false']);
  });

  it('reads pages to the end, enqueues jobs of at most maxItems, and moves the checkpoint only after', async () => {
    const s = fakeStream(rowsAt([10, 10, 11, 12, 13]), { bound: 100 });
    const result = await pollEvents(s.deps);
    expect(result).toMatchObject({ rows: 5, enqueued: 5, pages: 2, stoppedBy: 'caught-up' });
    expect(s.log).toEqual([
      'read 1,2,3',
      'enqueue 1+2 3',
      // Read ahead while page 1 is handed on; its checkpoint still waits for page 1.
      'read 4,5',
      'checkpoint 3',
      'enqueue 4+5',
      'checkpoint 5',
    ]);
    expect(s.jobs.map((j) => j.firstTime)).toEqual([10, 11, 12]);
    expect(s.jobs[0]!.id).toBe('departures-10_1-10_2');
    expect(s.caughtUp).toBe(100);
  });

  it('counts as read up to a checkpoint set ahead of its gate (an operator skipped those rows)', async () => {
    const s = fakeStream(rowsAt([10, 20, 30]), {
      bound: 100,
      gate: () => 15,
      checkpoint: { time: '30', id: '3' },
    });
    const result = await pollEvents(s.deps);
    expect(result).toMatchObject({ rows: 0, stoppedBy: 'gate' });
    expect(s.caughtUp).toBe(30);
  });

  it('quarantines a bad row and goes on', async () => {
    const s = fakeStream(rowsAt([10, 11, 12], [2]), { bound: 100 });
    const result = await pollEvents(s.deps);
    expect(result).toMatchObject({ rows: 3, enqueued: 2, quarantined: 1 });
    expect(s.quarantined).toEqual(['2']);
    expect(s.jobs.flatMap((j) => j.records.map((r) => r.vendorKey))).toEqual(['1', '3']);
    expect(s.log).toEqual(['read 1,2,3', 'read -', 'enqueue 1+3', 'checkpoint 3']);
  });

  it('reads the next page and starts handing it on while the previous one is still delivering', async () => {
    const s = fakeStream(rowsAt([10, 11, 12, 13, 14, 15, 16]), { bound: 100 });
    const enqueue = s.deps.enqueue;
    s.deps.enqueue = async (jobs) => {
      await enqueue(jobs);
      // A direct delivery takes a while: the next page's read and hand-on overlap it.
      for (let i = 0; i < 10; i++) await Promise.resolve();
      s.log.push('delivered');
    };
    await pollEvents(s.deps);
    expect(s.log).toEqual([
      'read 1,2,3',
      'enqueue 1+2 3',
      'read 4,5,6',
      'enqueue 4+5 6',
      'read 7',
      'delivered',
      'checkpoint 3',
      // Page 3 waits for page 1 to be done before it is handed on: two pages at most.
      'delivered',
      'checkpoint 6',
      'enqueue 7',
      'delivered',
      'checkpoint 7',
    ]);
  });

  it('checkpoints in page order even when a later page is delivered first', async () => {
    const s = fakeStream(rowsAt([10, 11, 12, 13, 14]), { bound: 100 });
    const enqueue = s.deps.enqueue;
    let first = true;
    s.deps.enqueue = async (jobs) => {
      await enqueue(jobs);
      const slow = first;
      first = false;
      for (let i = 0; i < (slow ? 20 : 1); i++) await Promise.resolve();
      s.log.push(`delivered ${jobs[0]!.records[0]!.vendorKey}`);
    };
    await pollEvents(s.deps);
    const events = s.log.filter((l) => !l.startsWith('read') && !l.startsWith('enqueue'));
    expect(events).toEqual(['delivered 4', 'delivered 1', 'checkpoint 3', 'checkpoint 5']);
  });

  it('a failed hand-on fails the poll without its checkpoint, and waits for the page after it', async () => {
    const s = fakeStream(rowsAt([10, 11, 12, 13, 14, 15, 16]), { bound: 100 });
    let pageTwoDone = false;
    s.deps.enqueue = async (jobs) => {
      await Promise.resolve();
      if (jobs[0]!.records[0]!.vendorKey === '1') throw new Error('Redis went away');
      for (let i = 0; i < 10; i++) await Promise.resolve();
      pageTwoDone = true;
    };
    await expect(pollEvents(s.deps)).rejects.toThrow('Redis went away');
    expect(s.log.filter((l) => l.startsWith('checkpoint'))).toEqual([]);
    // The poll ended only after the page handed on behind the failed one had finished.
    expect(pageTwoDone).toBe(true);
  });

  it('a failing read ahead and a failing hand-on fail the poll, with nothing left unhandled', async () => {
    const s = fakeStream(rowsAt([10, 11, 12, 13, 14, 15, 16]), { bound: 100 });
    s.deps.enqueue = async () => {
      await Promise.resolve();
      throw new Error('Redis went away');
    };
    const readPage = s.deps.readPage;
    s.deps.readPage = async (after, limit, upTo) => {
      if (after) throw new Error('read ahead failed too');
      return readPage(after, limit, upTo);
    };
    await expect(pollEvents(s.deps)).rejects.toThrow(/Redis went away|read ahead failed too/);
    expect(s.log).toEqual(['read 1,2,3']);
    // An unhandled rejection would fail this test file (vitest reports them).
    await new Promise((r) => setTimeout(r, 10));
  });

  it('hands on a page read ahead even when the budget runs out, then stops', async () => {
    const s = fakeStream(rowsAt([10, 11, 12, 13, 14, 15, 16, 17, 18]), { bound: 100 });
    s.deps.budgetMs = 100;
    const enqueue = s.deps.enqueue;
    s.deps.enqueue = async (jobs) => {
      await enqueue(jobs);
      await s.deps.sleep!(60);
    };
    const result = await pollEvents(s.deps);
    // Page 2 was read ahead at 0 ms and page 3 at 60 ms (both within budget), and both were handed
    // on; at 120 ms, past the budget, nothing more was read.
    expect(result).toMatchObject({ pages: 3, stoppedBy: 'budget' });
    expect(s.log.filter((l) => l.startsWith('read'))).toEqual([
      'read 1,2,3',
      'read 4,5,6',
      'read 7,8,9 at 60',
    ]);
    expect(s.log.at(-1)).toBe('checkpoint 9');
  });

  it('reads nothing while the push queue is deeper than its bound', async () => {
    const s = fakeStream(rowsAt([10]), { bound: 100, depth: 11 });
    expect((await pollEvents(s.deps)).stoppedBy).toBe('backpressure');
    expect(s.log).toEqual([]);
  });

  it('waits for a gate that holds rows back and reads them in the same poll once it moves', async () => {
    let gate = 11;
    const s = fakeStream(rowsAt([10, 11, 12]), {
      bound: 15,
      gate: () => {
        // The other stream's jobs settle 200 ms into the poll.
        if (s.clock >= 200) gate = 14;
        return gate;
      },
    });
    s.deps.gateWaitMs = 1_000;
    const result = await pollEvents(s.deps);
    expect(s.log).toEqual([
      'read 1',
      'enqueue 1',
      'checkpoint 1',
      'read 2,3 at 200',
      'enqueue 2+3',
      'checkpoint 3',
    ]);
    // Still held back by the gate (14 < bound 15) after that: it waited out the rest and ended.
    expect(s.clock).toBe(1_000);
    expect(result.stoppedBy).toBe('gate');
    expect(s.caughtUp).toBe(14);
  });

  it('ends after gateWaitMs when the gate does not move, and at once without gateWaitMs', async () => {
    const waiting = fakeStream(rowsAt([10, 12]), { bound: 15, gate: () => 11 });
    waiting.deps.gateWaitMs = 500;
    expect((await pollEvents(waiting.deps)).stoppedBy).toBe('gate');
    expect(waiting.clock).toBeGreaterThan(500 - GATE_CHECK_MS);
    expect(waiting.clock).toBeLessThanOrEqual(500);
    expect(waiting.log).toEqual(['read 1', 'enqueue 1', 'checkpoint 1']);

    const immediate = fakeStream(rowsAt([10, 12]), { bound: 15, gate: () => 11 });
    expect((await pollEvents(immediate.deps)).stoppedBy).toBe('gate');
    expect(immediate.clock).toBe(0);
  });

  it('waits for a gate far behind its bound too (a backlog), looking less often, and reads once it moved', async () => {
    let gate = 11;
    const s = fakeStream(rowsAt([10, 12, 13]), {
      bound: 11 + GATE_WAIT_WITHIN_S + 1,
      gate: () => {
        if (s.clock >= 150) gate = 12.5;
        return gate;
      },
    });
    s.deps.gateWaitMs = 1_000;
    await pollEvents(s.deps);
    // Looked at 100 and 200 ms (not every 25): the move at 150 ms was read at 200.
    expect(s.log.filter((l) => l.startsWith('read'))).toEqual(['read 1', 'read 2 at 200']);
    expect(s.log).toContain('checkpoint 2');
  });

  it('waits for the other stream to start (gate 0) instead of ending', async () => {
    let gate = GATE_NOT_STARTED;
    const s = fakeStream(rowsAt([10, 12]), {
      bound: 1_000,
      gate: () => {
        if (s.clock >= 100) gate = 11;
        return gate;
      },
    });
    s.deps.gateWaitMs = 1_000;
    await pollEvents(s.deps);
    expect(s.log.filter((l) => l.startsWith('read'))[1]).toBe('read 1 at 100');
  });

  it('ends at once when held by its gate without gateWaitMs', async () => {
    const s = fakeStream(rowsAt([10, 12]), { bound: 11 + GATE_WAIT_WITHIN_S + 1, gate: () => 11 });
    expect((await pollEvents(s.deps)).stoppedBy).toBe('gate');
    expect(s.clock).toBe(0);
  });

  it('held only by the followed read: sleeps until its next poll is due, then reads in the same poll', async () => {
    let gate = 11;
    let looks = 0;
    const s = fakeStream(rowsAt([10, 12]), {
      bound: 15,
      gate: () => {
        looks++;
        // The entrances' next poll ends 600 ms into this one and moves the gate.
        if (s.clock >= 600) gate = 14;
        return gate;
      },
    });
    s.deps.gateWaitMs = 1_000;
    // After it, the next one is due only after the wait.
    s.deps.gateHold = () => ({ by: 'read', everyMs: 1_000, nextAtMs: gate === 11 ? 600 : 1_600 });
    await pollEvents(s.deps);
    expect(s.log.filter((l) => l.startsWith('read'))).toEqual(['read 1', 'read 2 at 600']);
    // One look at the gate per page read and one after the sleep, none in between; it then ended.
    expect(looks).toBe(3);
    expect(s.clock).toBe(600);
  });

  it('held only by the followed read: ends at once when its next poll is not due within the wait (idle) or long overdue', async () => {
    const idle = fakeStream(rowsAt([10, 12]), { bound: 15, gate: () => 11 });
    idle.deps.gateWaitMs = 1_000;
    idle.deps.gateHold = () => ({ by: 'read', everyMs: 5_000, nextAtMs: 4_000 });
    expect((await pollEvents(idle.deps)).stoppedBy).toBe('gate');
    expect(idle.clock).toBe(0);

    const overdue = fakeStream(rowsAt([10, 12]), { bound: 15, gate: () => 11 });
    overdue.deps.gateWaitMs = 1_000;
    overdue.deps.now = () => 10_000 + overdue.clock;
    overdue.deps.gateHold = () => ({ by: 'read', everyMs: 1_000, nextAtMs: 8_000 });
    expect((await pollEvents(overdue.deps)).stoppedBy).toBe('gate');
    expect(overdue.clock).toBe(0);
  });

  it('held by jobs in flight: looks every GATE_CHECK_MS', async () => {
    expect(gateLookIn({ by: 'jobs' }, 0, GATE_CHECK_MS)).toBe(GATE_CHECK_MS);
    expect(gateLookIn(undefined, 0, GATE_CHECK_MS)).toBe(GATE_CHECK_MS);
    // Past its due time but not overdue: its poll is running, look often.
    expect(gateLookIn({ by: 'read', everyMs: 1_000, nextAtMs: 500 }, 700, GATE_CHECK_MS)).toBe(GATE_CHECK_MS);
    expect(gateLookIn({ by: 'read', everyMs: 1_000 }, 700, GATE_CHECK_MS)).toBe(GATE_CHECK_MS);
  });

  it('does not wait when the gate is not what stops it', async () => {
    const s = fakeStream(rowsAt([10, 12]), { bound: 11, gate: () => 50 });
    s.deps.gateWaitMs = 1_000;
    expect((await pollEvents(s.deps)).stoppedBy).toBe('caught-up');
    expect(s.clock).toBe(0);
    expect(s.caughtUp).toBe(11);
  });

  it('low-latency follower: marks the rows it hands on, holds back the rest until they may go, leaves what still waits to the sweep', async () => {
    const s = fakeStream(rowsAt([10, 11, 12, 13]), { bound: 100 });
    const marked: string[] = [];
    // Row 2 may go from clock 100 on; row 4 never (its entrance is not settled within the poll).
    const result = await pollEvents({
      ...s.deps,
      deferWaitMs: 300,
      markRead: async (rows) => {
        marked.push(...rows.map((r) => r.vendorKey));
      },
      mayGo: async (records) =>
        records.map(
          (r) => r.vendorKey === '1' || r.vendorKey === '3' || (r.vendorKey === '2' && s.clock >= 100),
        ),
    });
    expect(s.jobs.flatMap((j) => j.records.map((r) => r.vendorKey)).sort()).toEqual(['1', '2', '3']);
    expect(marked.sort()).toEqual(['1', '2', '3']);
    expect(result.leftToSweep).toBe(1);
    // The checkpoint is past every row read: the sweep, not the live read, comes back for row 4.
    expect(s.log).toContain('checkpoint 4');
  });
});
