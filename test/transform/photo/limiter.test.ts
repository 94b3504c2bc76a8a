import { describe, expect, it } from 'vitest';
import { createPhotoLimiter } from '../../../src/transform/photo/index.js';

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
