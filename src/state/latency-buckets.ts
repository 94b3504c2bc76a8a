/**
 * Delivery latency (event time → ISP's acceptance) as a histogram of fixed logarithmic buckets:
 * four per doubling, so percentiles are derived from counts (which add up across batches, lots and
 * streams) instead of raw samples. A derived percentile is the geometric middle of the bucket that
 * holds the sample of that rank: within 9% of it (half a bucket, 2^(1/8)), or 0.5 s below 1 s.
 * Pure: no I/O.
 */

/** Buckets per doubling of the latency. */
export const BUCKETS_PER_DOUBLING = 4;
/** Bucket 0 holds latencies under 1 s (and negative ones: a vendor clock ahead of ours). */
const FIRST_SECONDS = 1;
/** The last bucket holds everything from 2^((LAST_BUCKET - 1) / 4) s (~ 2.9 years) on. */
export const LAST_BUCKET = 105;

/** Buckets by index → count. */
export type LatencyHistogram = Map<number, number>;

/**
 * The bucket of a latency in seconds: 0 below 1 s, then b covers
 * [2^((b-1)/4), 2^(b/4)) seconds.
 */
export function latencyBucket(seconds: number): number {
  if (!(seconds >= FIRST_SECONDS)) return 0;
  return Math.min(LAST_BUCKET, 1 + Math.floor(Math.log2(seconds) * BUCKETS_PER_DOUBLING));
}

/** The bounds of bucket b, seconds: [low, high). */
export function bucketBounds(b: number): { low: number; high: number } {
  if (b <= 0) return { low: 0, high: FIRST_SECONDS };
  return {
    low: 2 ** ((b - 1) / BUCKETS_PER_DOUBLING),
    high: b >= LAST_BUCKET ? Number.POSITIVE_INFINITY : 2 ** (b / BUCKETS_PER_DOUBLING),
  };
}

/** What a bucket stands for when a percentile falls in it, seconds. */
export function bucketValue(b: number): number {
  if (b <= 0) return FIRST_SECONDS / 2;
  return 2 ** ((b - 0.5) / BUCKETS_PER_DOUBLING);
}

/** Adds `from` into `into` (histograms of several lots, streams or batches). */
export function mergeHistogram(into: LatencyHistogram, from: ReadonlyMap<number, number>): LatencyHistogram {
  for (const [b, n] of from) into.set(b, (into.get(b) ?? 0) + n);
  return into;
}

/**
 * The p-th percentile (0 < p ≤ 1) by nearest rank: the value of the bucket holding the
 * ⌈p·n⌉-th smallest latency; undefined for an empty histogram.
 */
export function percentile(histogram: ReadonlyMap<number, number>, p: number): number | undefined {
  let total = 0;
  for (const n of histogram.values()) total += n;
  if (total <= 0) return undefined;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const b of [...histogram.keys()].sort((x, y) => x - y)) {
    seen += histogram.get(b) ?? 0;
    if (seen >= rank) return bucketValue(b);
  }
  return bucketValue(LAST_BUCKET);
}
