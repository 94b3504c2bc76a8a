import { describe, expect, it } from 'vitest';
import { createPhotoLimiter, createSharedLimiter } from '../../../src/transform/photo/index.js';

describe('photo limiter', () => {
  it('never runs more than `concurrency` photos at once, in FIFO order', async () => {
    const limit = createPhotoLimiter(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const gates: (() => void)[] = [];
    const jobs = Array.from({ length: 6 }, (_, i) =>
      limit(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
        return i * 10;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(limit.active).toBe(2);
    expect(limit.waiting).toBe(4);
    while (gates.length > 0 || started.length < 6) {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(jobs)).toEqual([0, 10, 20, 30, 40, 50]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
    expect(limit.active).toBe(0);
  });

  it('frees the slot when the work fails', async () => {
    const limit = createPhotoLimiter(1);
    await expect(limit(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limit(async () => 'next')).toBe('next');
    expect(limit.active).toBe(0);
  });

  it('refuses a concurrency below 1', () => {
    expect(() => createPhotoLimiter(0)).toThrow(RangeError);
  });
});

/** Work that runs until its gate is opened; records the order in which it started. */
function gatedWork(started: string[]) {
  const gates = new Map<string, () => void>();
  return {
    task: (id: string) => () =>
      new Promise<string>((resolve) => {
        started.push(id);
        gates.set(id, () => resolve(id));
      }),
    open(id: string) {
      const gate = gates.get(id);
      if (!gate) throw new Error(`${id} has not started`);
      gates.delete(id);
      gate();
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('photo slots shared by the sources of a process', () => {
  it('gives a freed slot to the source with work waiting that holds the fewest, not to the longest queue', async () => {
    const shared = createSharedLimiter(2);
    const backlog = shared.lane('backlog');
    const live = shared.lane('live');
    const started: string[] = [];
    const work = gatedWork(started);
    const jobs = Array.from({ length: 20 }, (_, i) => backlog(work.task(`b${i}`)));
    await settle();
    expect(started).toEqual(['b0', 'b1']);
    // A live photo arrives behind 18 waiting backlog photos: it gets the next free slot.
    const livePhoto = live(work.task('l0'));
    await settle();
    expect(live.waiting).toBe(1);
    work.open('b0');
    await settle();
    expect(started).toEqual(['b0', 'b1', 'l0']);
    work.open('l0');
    expect(await livePhoto).toBe('l0');
    // Then the backlog has every free slot again.
    work.open('b1');
    await settle();
    expect(started.slice(3)).toEqual(['b2', 'b3']);
    expect(shared.active).toBe(2);
    for (let i = 2; i < 20; i++) {
      work.open(`b${i}`);
      await settle();
    }
    await Promise.all(jobs);
    expect(shared.active).toBe(0);
  });

  it('keeps each source within its own cap, and the process within its size', async () => {
    const shared = createSharedLimiter(3);
    const north = shared.lane('north', 1);
    const south = shared.lane('south', 5);
    const started: string[] = [];
    const work = gatedWork(started);
    const jobs = [
      north(work.task('n0')),
      north(work.task('n1')),
      south(work.task('s0')),
      south(work.task('s1')),
      south(work.task('s2')),
    ];
    await settle();
    // North at its cap of 1; south gets the other two of the process's three.
    expect(started).toEqual(['n0', 's0', 's1']);
    expect([north.active, south.active, shared.active]).toEqual([1, 2, 3]);
    work.open('s0');
    await settle();
    // North waits (at its cap) while its own slot is taken; south takes the free one.
    expect(started.at(-1)).toBe('s2');
    work.open('n0');
    await settle();
    expect(started.at(-1)).toBe('n1');
    for (const id of ['s1', 's2', 'n1']) work.open(id);
    expect(await Promise.all(jobs)).toEqual(['n0', 'n1', 's0', 's1', 's2']);
    expect(shared.lane('south').active).toBe(0);
  });

  it('grows and shrinks with the sources: more start waiting work at once, fewer let work in progress finish', async () => {
    const shared = createSharedLimiter(2);
    // A source added later asks for 4, more than the process had when its lane was made.
    const big = shared.lane('big', 4);
    const started: string[] = [];
    const work = gatedWork(started);
    const jobs = ['b0', 'b1', 'b2', 'b3', 'b4'].map((id) => big(work.task(id)));
    await settle();
    expect(started).toEqual(['b0', 'b1']);
    shared.resize(4);
    await settle();
    // The waiting work starts at once, up to the lane's own cap of 4.
    expect(started).toEqual(['b0', 'b1', 'b2', 'b3']);
    expect([shared.size, shared.active]).toEqual([4, 4]);
    // That source removed: back to 1. Nothing is stopped; nothing new starts above the new size.
    shared.resize(1);
    work.open('b0');
    await settle();
    expect(started).toHaveLength(4);
    for (const id of ['b1', 'b2']) work.open(id);
    await settle();
    expect(started).toHaveLength(4);
    work.open('b3');
    await settle();
    expect(started.at(-1)).toBe('b4');
    expect(shared.active).toBe(1);
    work.open('b4');
    await Promise.all(jobs);
    expect(() => shared.resize(0)).toThrow(/whole number >= 1/);
  });

  it("frees a lane's slot when its work fails", async () => {
    const shared = createSharedLimiter(1);
    const a = shared.lane('a');
    const b = shared.lane('b');
    await expect(a(() => Promise.reject(new Error('corrupt photo')))).rejects.toThrow('corrupt photo');
    expect(await b(async () => 'next')).toBe('next');
    expect(shared.active).toBe(0);
  });
});
