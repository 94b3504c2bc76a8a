/**
 * The watermarks behind the departure gate (real Redis): live jobs, backfill jobs and a running
 * backfill's hold, and what each watermark takes into account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamProgress } from '../../src/state/stream-progress.js';
import { createTestRedis, type TestRedis } from '../helpers/services.js';

describe('stream progress (real Redis)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await createTestRedis('progress');
  });
  afterAll(async () => {
    await redis.cleanup();
  });

  it('holds departures before pending live jobs, backfill jobs and a running backfill', async () => {
    const p = new StreamProgress(redis.client, redis.prefix);
    const live = new Set(['live-1', 'bf-1', 'bf-2']);
    const isLive = async (id: string) => live.has(id);
    const gate = () => p.watermark('entrances', isLive, { withBackfills: true });
    const own = () => p.watermark('entrances', isLive);

    // Nothing read by anyone: no mark either way.
    expect(await own()).toBeUndefined();
    expect(await gate()).toBeUndefined();
    // A backfill alone (the live poll never read): only the departure gate sees it.
    await p.hold('entrances', 'h1', 500, 10_000);
    expect(await own()).toBeUndefined();
    expect(await gate()).toBe(500);

    await p.setCaughtUp('entrances', 2_000);
    await p.addPending('entrances', [{ id: 'live-1', firstTime: 1_500 }]);
    await p.addPending(
      'entrances',
      [
        { id: 'bf-1', firstTime: 700 },
        { id: 'bf-2', firstTime: 900 },
      ],
      { backfill: true },
    );
    // A backfill's own range is cut by live work only; departures wait for everything.
    expect(await own()).toBe(1_500);
    expect(await gate()).toBe(500);
    // The backfill reads on: its hold moves, its first job now holds the gate.
    await p.hold('entrances', 'h1', 1_000, 10_000);
    expect(await gate()).toBe(700);
    await p.settle('entrances', 'bf-1');
    expect(await gate()).toBe(900);
    // Done reading: released; its last job still holds until settled.
    await p.release('entrances', 'h1');
    expect(await gate()).toBe(900);
    await p.settle('entrances', 'bf-2');
    expect(await gate()).toBe(1_500);
    await p.settle('entrances', 'live-1');
    expect(await gate()).toBe(2_000);
    expect(await own()).toBe(2_000);
  });

  it('says what holds the watermark: jobs in flight, or only the read (with when the stream last polled and found rows)', async () => {
    const p = new StreamProgress(redis.client, redis.prefix);
    const stream = 'held-by';
    const live = new Set(['j1']);
    const reading = () => p.watermarkReading(stream, async (id) => live.has(id), { withBackfills: true });
    expect(await reading()).toEqual({ mark: undefined, heldBy: 'read' });
    await p.setCaughtUp(stream, 2_000);
    await p.setPolled(stream, 5_000);
    await p.setFoundRows(stream, 4_000);
    expect(await reading()).toEqual({
      mark: 2_000,
      caughtUp: 2_000,
      heldBy: 'read',
      polledAt: 5_000,
      foundRowsAt: 4_000,
    });
    await p.addPending(stream, [{ id: 'j1', firstTime: 1_500 }]);
    expect(await reading()).toMatchObject({ mark: 1_500, heldBy: 'jobs' });
    // A dead entry is dropped on the way, as `watermark` does.
    live.delete('j1');
    expect(await reading()).toMatchObject({ mark: 2_000, heldBy: 'read' });
    await p.hold(stream, 'h', 1_000, 10_000);
    expect(await reading()).toMatchObject({ mark: 1_000, heldBy: 'jobs' });
  });

  it('lets a dead backfill go: a hold lapses when not renewed, a vanished job is dropped', async () => {
    const p = new StreamProgress(redis.client, redis.prefix);
    await p.setCaughtUp('departures', 5_000);
    await p.hold('departures', 'dies', 100, 300);
    await p.addPending('departures', [{ id: 'gone', firstTime: 200 }], { backfill: true });
    const gate = () => p.watermark('departures', async () => false, { withBackfills: true });
    expect(await gate()).toBe(100); // the hold is alive
    await new Promise((r) => setTimeout(r, 400));
    expect(await gate()).toBe(5_000); // the hold lapsed, then the job that is gone was dropped
    const left = await redis.client.zrange(`${redis.prefix}:state:pending-backfill:departures`, 0, -1);
    expect(left).toEqual([]);
  });

  it('moves a job forward as its batches are delivered, never back, and never re-adds a settled job', async () => {
    const p = new StreamProgress(redis.client, redis.prefix);
    const isLive = async () => true;
    await p.setCaughtUp('moves', 9_000);
    await p.addPending('moves', [
      { id: 'a', firstTime: 100 },
      { id: 'b', firstTime: 500 },
    ]);
    await p.addPending('moves', [{ id: 'bf', firstTime: 300 }], { backfill: true });
    const gate = () => p.watermark('moves', isLive, { withBackfills: true });
    expect(await gate()).toBe(100);
    await p.advance('moves', 'a', 400);
    expect(await gate()).toBe(300);
    await p.advance('moves', 'bf', 700);
    expect(await gate()).toBe(400);
    await p.advance('moves', 'a', 200); // an older report changes nothing
    expect(await gate()).toBe(400);
    await p.settle('moves', 'a');
    await p.advance('moves', 'a', 450); // after settling: not added again
    expect(await gate()).toBe(500);
  });
});
