/** Reusable photo memory: what is given back is lent again, never twice, within its bounds. */
import { describe, expect, it } from 'vitest';
import { PhotoBuffers } from '../../../src/transform/photo/buffers.js';

describe('PhotoBuffers', () => {
  it('lends a buffer given back again, for any size of its 64 KB class', () => {
    const pool = new PhotoBuffers(1024 * 1024, 8 * 1024 * 1024);
    const a = pool.take(150_000);
    expect(a.length).toBe(150_000);
    a.fill(7);
    pool.give(a.subarray(0, 10)); // a view of it counts: the memory is what is given back
    const b = pool.take(140_000);
    expect(b.buffer === a.buffer).toBe(true);
    expect(b.length).toBe(140_000);
    expect(pool.stats()).toMatchObject({ reused: 1, allocated: 1 });
    // Another class: fresh memory.
    expect(pool.take(400_000).buffer === a.buffer).toBe(false);
  });

  it('ignores a second give, a foreign buffer and photos over its largest size', () => {
    const pool = new PhotoBuffers(100_000, 8 * 1024 * 1024);
    const a = pool.take(50_000);
    pool.give(a);
    pool.give(a);
    const b = pool.take(50_000);
    const c = pool.take(50_000);
    expect(b.buffer === a.buffer).toBe(true);
    expect(c.buffer === a.buffer).toBe(false); // not lent twice
    pool.give(Buffer.alloc(65_536));
    const big = pool.take(200_000);
    pool.give(big);
    expect(pool.stats().freeBytes).toBe(0);
  });

  it('keeps at most keepBytes free', () => {
    const pool = new PhotoBuffers(1024 * 1024, 128 * 1024);
    const taken = [pool.take(60_000), pool.take(60_000), pool.take(60_000)];
    for (const t of taken) pool.give(t);
    expect(pool.stats().freeBytes).toBe(128 * 1024);
  });
});
