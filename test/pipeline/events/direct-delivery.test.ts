/**
 * deliverDirect: lanes, and what is handed to the queue after a failure (the failed job and every
 * job not started, in order; jobs already under way finish and are not handed off). handOnBy: which
 * pages go directly and which through the queue.
 */
import { describe, expect, it } from 'vitest';
import { deliverDirect, handOnBy, Lanes } from '../../../src/pipeline/events/direct-delivery.js';

const tick = (n = 1) => new Promise<void>((r) => setTimeout(r, n));

describe('deliverDirect', () => {
  it('delivers every job with at most `concurrency` at once', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    const result = await deliverDirect(
      [1, 2, 3, 4, 5, 6, 7],
      async (job) => {
        running++;
        peak = Math.max(peak, running);
        await tick(job % 3);
        running--;
        done.push(job);
      },
      new Lanes(3),
    );
    expect(result).toEqual({ handOff: [], failures: new Map() });
    expect(peak).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('after a failure starts nothing new and hands off the failed job and the rest, in order', async () => {
    const started: number[] = [];
    const failure = new Error('ISP 503');
    const result = await deliverDirect(
      [1, 2, 3, 4, 5, 6],
      async (job) => {
        started.push(job);
        // Job 2 fails at once; job 1, already under way, finishes after it and is delivered.
        if (job === 2) throw failure;
        await tick(5);
      },
      new Lanes(2),
    );
    expect(started).toEqual([1, 2]);
    expect(result.handOff).toEqual([2, 3, 4, 5, 6]);
    expect(result.error).toBe(failure);
  });

  it('hands off every failed job under way, not only the first, and keeps the first error', async () => {
    const result = await deliverDirect(
      ['a', 'b', 'c', 'd'],
      async (job) => {
        await tick(job === 'a' ? 1 : 5);
        if (job !== 'c') throw new Error(`failed ${job}`);
      },
      new Lanes(3),
    );
    expect(result.handOff).toEqual(['a', 'b', 'd']);
    expect((result.error as Error).message).toBe('failed a');
  });

  it('shares its lanes between two pages handed on at once: the bound holds for both together', async () => {
    const lanes = new Lanes(3);
    let running = 0;
    let peak = 0;
    const started: string[] = [];
    const deliver = async (job: string) => {
      started.push(job);
      running++;
      peak = Math.max(peak, running);
      await tick(2);
      running--;
    };
    const [a, b] = await Promise.all([
      deliverDirect(['a1', 'a2', 'a3', 'a4'], deliver, lanes),
      deliverDirect(['b1', 'b2', 'b3'], deliver, lanes),
    ]);
    expect(a.handOff).toEqual([]);
    expect(b.handOff).toEqual([]);
    expect(peak).toBe(3);
    // First come, first served: the first page's jobs start before the second's.
    expect(started.slice(0, 3)).toEqual(['a1', 'a2', 'a3']);
  });

  it('does nothing with no jobs', async () => {
    expect(await deliverDirect([], async () => undefined, new Lanes(4))).toEqual({
      handOff: [],
      failures: new Map(),
    });
  });
});

describe('handOnBy', () => {
  it('delivers directly while the queue is empty, unless a backlog can be shared with other pushers', () => {
    const cases = [
      // A process alone delivers everything directly, backlog or live traffic.
      [{ queueEmpty: true, pageFull: true, otherPushers: 0 }, 'direct'],
      [{ queueEmpty: true, pageFull: false, otherPushers: 0 }, 'direct'],
      // Live traffic (the poll caught up) stays direct with other processes running.
      [{ queueEmpty: true, pageFull: false, otherPushers: 2 }, 'direct'],
      // A backlog is shared through the queue.
      [{ queueEmpty: true, pageFull: true, otherPushers: 1 }, 'queue'],
      // Jobs waiting: behind them, always.
      [{ queueEmpty: false, pageFull: false, otherPushers: 0 }, 'queue'],
      [{ queueEmpty: false, pageFull: true, otherPushers: 0 }, 'queue'],
      [{ queueEmpty: false, pageFull: true, otherPushers: 3 }, 'queue'],
    ] as const;
    for (const [facts, by] of cases) expect([facts, handOnBy(facts)]).toEqual([facts, by]);
  });
});
