import { afterEach, describe, expect, it } from 'vitest';
import { ParkClaimStore } from '../../src/state/park-claims.js';
import { createTestRedis, type TestRedis } from '../helpers/services.js';

let redis: TestRedis | undefined;
afterEach(async () => {
  await redis?.cleanup();
  redis = undefined;
});

describe('park code claims', () => {
  it('first come first served; a source is told the codes others hold; release gives back only its own', async () => {
    redis = await createTestRedis();
    const claims = new ParkClaimStore(redis.client, redis.prefix);
    expect(await claims.claim('north', ['A', 'B'])).toEqual(new Map());
    expect(await claims.claim('north', ['A', 'B'])).toEqual(new Map());
    expect(await claims.claim('south', ['B', 'C'])).toEqual(new Map([['B', 'north']]));
    // Many codes at once (over one script call's chunk).
    const many = Array.from({ length: 2_500 }, (_, i) => `M${i}`);
    expect((await claims.claim('east', many)).size).toBe(0);
    expect((await claims.claim('south', many)).size).toBe(2_500);
    expect(await claims.release('east')).toBe(2_500);
    expect(await claims.all()).toEqual(
      new Map([
        ['A', 'north'],
        ['B', 'north'],
        ['C', 'south'],
      ]),
    );
    expect(await claims.claim('south', ['M7'])).toEqual(new Map());
  });
});
