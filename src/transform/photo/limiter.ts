/**
 * Bounds photo work: each photo holds its input, a decoded frame and the output in memory and keeps
 * a core busy, so the pipeline runs all photo work through limiters and at most their size is in
 * memory at once; the rest wait without their bytes (callers load the photo inside the limited
 * function).
 *
 * The slots are the process's, shared by its sources (`createSharedLimiter`): each source works in
 * a lane of its own, and a freed slot goes to the lane with work waiting that holds the fewest, so a
 * source with thousands of photos queued (a backlog, a slow photo store) does not keep a source
 * whose one live photo just arrived waiting behind them. Within a lane, first come first served.
 * One source alone is one lane: plain FIFO.
 */

export interface PhotoLimiter {
  <T>(fn: () => Promise<T>): Promise<T>;
  /** Photos being worked on now (this lane). */
  readonly active: number;
  /** Photos waiting for a slot (this lane). */
  readonly waiting: number;
}

export interface SharedLimiter {
  /** Slots of the whole process. */
  readonly size: number;
  /** Slots in use now, every lane together. */
  readonly active: number;
  /**
   * The lane of `name` (made on first use, the same one after): at most `cap` of the slots at once
   * (a source's own photo.concurrency), never more than the process's.
   */
  lane(name: string, cap?: number): PhotoLimiter;
  /**
   * Sets the process's slots (a source added with a larger photo.concurrency, or the largest one
   * removed): more start waiting work at once; fewer let the photos in progress finish and start
   * no new one until the work in progress is below the new size.
   */
  resize(concurrency: number): void;
}

interface Lane {
  active: number;
  cap: number;
  queue: Array<() => void>;
}

function slotCount(what: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${what} must be a whole number >= 1, got ${n}`);
  return n;
}

export function createSharedLimiter(concurrency: number): SharedLimiter {
  let size = slotCount('photo concurrency', concurrency);
  const lanes = new Map<string, Lane>();
  /** Lane names in turn order; `next` is where the next search for waiting work starts. */
  const order: string[] = [];
  let next = 0;
  let active = 0;

  /**
   * Hands free slots to waiting lanes: each to the lane with work waiting that holds the fewest
   * slots (ties in turn), so every source gets an equal share of what it asks for.
   */
  const dispatch = () => {
    while (active < size) {
      let chosen = -1;
      for (let i = 0; i < order.length; i++) {
        const index = (next + i) % order.length;
        const lane = lanes.get(order[index]!)!;
        if (lane.queue.length === 0 || lane.active >= lane.cap) continue;
        if (chosen < 0 || lane.active < lanes.get(order[chosen]!)!.active) chosen = index;
      }
      if (chosen < 0) return;
      const lane = lanes.get(order[chosen]!)!;
      next = (chosen + 1) % order.length;
      lane.active++;
      active++;
      lane.queue.shift()!();
    }
  };

  const laneOf = (name: string, cap: number): PhotoLimiter => {
    let lane = lanes.get(name);
    if (!lane) {
      lane = { active: 0, cap, queue: [] };
      lanes.set(name, lane);
      order.push(name);
    }
    // A source restarted with another photo.concurrency keeps its lane with the new cap.
    lane.cap = cap;
    const own = lane;
    const limit = async <T>(fn: () => Promise<T>): Promise<T> => {
      // Free slots are handed on at once, so a free slot here means no lane it could go to waits.
      if (active < size && own.active < own.cap) {
        own.active++;
        active++;
      } else {
        await new Promise<void>((resolve) => own.queue.push(resolve));
      }
      try {
        return await fn();
      } finally {
        own.active--;
        active--;
        dispatch();
      }
    };
    Object.defineProperties(limit, {
      active: { get: () => own.active },
      waiting: { get: () => own.queue.length },
    });
    return limit as PhotoLimiter;
  };

  return {
    get size() {
      return size;
    },
    get active() {
      return active;
    },
    // A lane's cap is kept as asked: the process's size, checked on every start, bounds it, and
    // may grow past what it was when the lane was made.
    lane: (name, cap) =>
      laneOf(name, cap === undefined ? Number.POSITIVE_INFINITY : slotCount('photo lane cap', cap)),
    resize(n) {
      size = slotCount('photo concurrency', n);
      dispatch();
    },
  };
}

/** A limiter of its own (one lane): `concurrency` at once, the rest in FIFO order. */
export function createPhotoLimiter(concurrency: number): PhotoLimiter {
  return createSharedLimiter(concurrency).lane('');
}
