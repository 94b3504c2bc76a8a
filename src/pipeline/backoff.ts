/** Exponential backoff with full jitter, capped: spreads retries of many workers after an outage. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  // Half fixed, half random: never retries at once, never waits far beyond the curve.
  return Math.round(exp / 2 + random() * (exp / 2));
}
