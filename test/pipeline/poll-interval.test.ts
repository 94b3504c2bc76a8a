/**
 * Idle polling's decision: when a stream is polled at its idle interval, and when its scheduler is
 * changed (only on a transition). The scheduler change itself is tested end to end in
 * test/e2e/idle-polling.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { keepPollInterval, pollIntervalOf, slowestPollEveryMs } from '../../src/pipeline/poll-interval.js';

const cfg = { pollEveryMs: 1_000, idleAfterMs: 60_000, idlePollEveryMs: 5_000 };

describe('pollIntervalOf', () => {
  it('is the usual interval until nothing was found for idleAfterMs, then the idle one', () => {
    expect(pollIntervalOf(cfg, undefined, 100_000)).toBe(1_000);
    expect(pollIntervalOf(cfg, 50_000, 109_999)).toBe(1_000);
    expect(pollIntervalOf(cfg, 50_000, 110_000)).toBe(5_000);
  });

  it('is off with idleAfterMs 0, and never faster than pollEveryMs', () => {
    expect(pollIntervalOf({ ...cfg, idleAfterMs: 0 }, 0, 1e9)).toBe(1_000);
    expect(pollIntervalOf({ ...cfg, pollEveryMs: 60_000, idlePollEveryMs: 5_000 }, 0, 1e9)).toBe(60_000);
  });
});

describe('slowestPollEveryMs', () => {
  it('is the idle interval when the stream may go idle (readiness and the consumption monitor wait that long)', () => {
    expect(slowestPollEveryMs(cfg)).toBe(5_000);
    expect(slowestPollEveryMs({ ...cfg, idleAfterMs: 0 })).toBe(1_000);
    expect(slowestPollEveryMs({ ...cfg, idlePollEveryMs: 500 })).toBe(1_000);
  });
});

describe('keepPollInterval', () => {
  function fake(
    foundRowsAt: number | undefined,
    scheduledEvery: number | undefined,
    found: boolean,
    nowMs: number,
  ) {
    const calls: string[] = [];
    let stored = foundRowsAt;
    const run = keepPollInterval({
      cfg,
      scheduledEvery,
      found,
      nowMs,
      foundRowsAt: async () => {
        calls.push('read');
        return stored;
      },
      setFoundRows: async (at) => {
        calls.push(`found ${at}`);
        stored = at;
      },
      reschedule: async (every) => {
        calls.push(`every ${every}`);
      },
    });
    return { run, calls };
  }

  it('goes idle after idleAfterMs without rows, and back on the first poll with rows', async () => {
    const busy = fake(0, 1_000, false, 59_999);
    expect(await busy.run).toBe(1_000);
    expect(busy.calls).toEqual(['read']);

    const idle = fake(0, 1_000, false, 60_000);
    expect(await idle.run).toBe(5_000);
    expect(idle.calls).toEqual(['read', 'every 5000']);

    // Already idle: nothing to change.
    const still = fake(0, 5_000, false, 70_000);
    expect(await still.run).toBe(5_000);
    expect(still.calls).toEqual(['read']);

    const back = fake(0, 5_000, true, 80_000);
    expect(await back.run).toBe(1_000);
    expect(back.calls).toEqual(['found 80000', 'every 1000']);
  });

  it('starts the idle spell at the first poll it notes, and leaves a poll not made by the scheduler alone', async () => {
    const first = fake(undefined, 1_000, false, 5_000);
    expect(await first.run).toBe(1_000);
    expect(first.calls).toEqual(['read', 'found 5000']);

    const manual = fake(0, undefined, false, 600_000);
    expect(await manual.run).toBe(5_000);
    expect(manual.calls).toEqual(['read']);
  });
});
