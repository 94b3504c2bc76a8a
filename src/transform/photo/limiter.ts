/**
 * Bounds photo work (photo.concurrency): each photo holds its input, a decoded frame and the output
 * in memory and keeps a core busy, so the pipeline runs all photo work through one limiter and at
 * most `concurrency` photos are in memory at once; the rest wait in FIFO order without their bytes
 * (callers load the photo inside the limited function).
 */

export interface PhotoLimiter {
  <T>(fn: () => Promise<T>): Promise<T>;
  /** Photos being worked on now. */
  readonly active: number;
  /** Photos waiting for a slot. */
  readonly waiting: number;
}

export function createPhotoLimiter(concurrency: number): PhotoLimiter {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`photo concurrency must be a whole number >= 1, got ${concurrency}`);
  }
  let active = 0;
  const queue: (() => void)[] = [];
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else active--;
  };
  const limit = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active < concurrency) active++;
    else await new Promise<void>((resolve) => queue.push(resolve));
    try {
      return await fn();
    } finally {
      release();
    }
  };
  Object.defineProperties(limit, {
    active: { get: () => active },
    waiting: { get: () => queue.length },
  });
  return limit as PhotoLimiter;
}
