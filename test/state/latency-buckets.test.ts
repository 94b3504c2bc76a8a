/** Latency histogram → percentiles, against the same percentile of the sorted samples. */
import { describe, expect, it } from 'vitest';
import {
  bucketBounds,
  type LatencyHistogram,
  latencyBucket,
  mergeHistogram,
  percentile,
} from '../../src/state/latency-buckets.js';

/** Nearest rank on sorted samples: the ⌈p·n⌉-th smallest. */
function sortedPercentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;
}

function histogramOf(samples: number[]): LatencyHistogram {
  const h: LatencyHistogram = new Map();
  for (const s of samples) h.set(latencyBucket(s), (h.get(latencyBucket(s)) ?? 0) + 1);
  return h;
}

/** Seeded, so a failure is reproducible. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x / 2_147_483_648;
  };
}

/** Within half a bucket (2^(1/8)) of the sample, or 0.5 s of it below 1 s. */
function expectClose(derived: number, exact: number) {
  if (exact < 1) expect(Math.abs(derived - exact)).toBeLessThanOrEqual(0.5);
  else {
    expect(derived / exact).toBeLessThanOrEqual(2 ** (1 / 8) + 1e-9);
    expect(exact / derived).toBeLessThanOrEqual(2 ** (1 / 8) + 1e-9);
  }
}

describe('latency histogram', () => {
  it('buckets cover the line without gaps: each latency lies within its bucket’s bounds', () => {
    for (const s of [0, 0.2, 0.999, 1, 1.5, 2, 3, 7.99, 8, 60, 3_600, 86_400, 3e6]) {
      const { low, high } = bucketBounds(latencyBucket(s));
      expect(s, `latency ${s}`).toBeGreaterThanOrEqual(low);
      expect(s, `latency ${s}`).toBeLessThan(high);
    }
    // A vendor clock ahead of ours makes a negative latency: the first bucket, not an error.
    expect(latencyBucket(-3)).toBe(0);
  });

  it.each([
    ['seconds, log-normal', (r: () => number) => Math.exp(1 + r() * 2 + r() * 2)],
    ['under a second and up to a day', (r: () => number) => r() ** 4 * 86_400],
    ['one value', () => 5],
  ])('p50 and p99 match the sorted samples within half a bucket (%s)', (_, draw) => {
    const r = random(42);
    const samples = Array.from({ length: 5_000 }, () => draw(r));
    const h = histogramOf(samples);
    for (const p of [0.5, 0.99]) expectClose(percentile(h, p)!, sortedPercentile(samples, p));
  });

  it('histograms of parts add up to the histogram of the whole (lots, streams, batches)', () => {
    const r = random(7);
    const a = Array.from({ length: 700 }, () => 2 + r() * 30);
    const b = Array.from({ length: 300 }, () => 200 + r() * 3_000);
    const merged = mergeHistogram(histogramOf(a), histogramOf(b));
    expect(merged).toEqual(histogramOf([...a, ...b]));
    expectClose(percentile(merged, 0.99)!, sortedPercentile([...a, ...b], 0.99));
    expectClose(percentile(merged, 0.5)!, sortedPercentile([...a, ...b], 0.5));
  });

  it('has no percentile without samples', () => {
    expect(percentile(new Map(), 0.5)).toBeUndefined();
  });
});
