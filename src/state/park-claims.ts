/**
 * Which source a park code belongs to, across a fleet: one hash of the deployment's (not of a
 * source's prefix), code → source name, written first come first served. A source's lot polls
 * claim the codes they read; a code another source holds is not sent (its row is quarantined with
 * the owner's name), so two vendor systems never overwrite one lot at ISP. Claims outlive a removed
 * source (its lots are still registered at ISP under its name) until it is purged.
 */

import { stateKey } from './keys.js';
import type { RedisClient } from './redis-client.js';

/** Codes per script call: Lua's unpack has a stack limit of a few thousand values. */
const CHUNK = 1_000;

// Every lot poll (counts every second) claims all its codes: read them all at once, and write
// only the codes nobody holds yet, so a steady poll is one HMGET.
const CLAIM = `
local owners = redis.call('HMGET', KEYS[1], unpack(ARGV, 2))
for i, owner in ipairs(owners) do
  if not owner then
    redis.call('HSET', KEYS[1], ARGV[i + 1], ARGV[1])
    owners[i] = ARGV[1]
  end
end
return owners
`;

export class ParkClaimStore {
  private readonly key: string;

  /** `fleetPrefix`: the deployment's prefix (every source of the fleet uses the same hash). */
  constructor(
    private readonly redis: RedisClient,
    fleetPrefix: string,
  ) {
    this.key = stateKey(fleetPrefix, 'park-claims');
  }

  /** Claims `codes` for `source`; returns those another source holds, with its name. */
  async claim(source: string, codes: readonly string[]): Promise<Map<string, string>> {
    const taken = new Map<string, string>();
    for (let i = 0; i < codes.length; i += CHUNK) {
      const chunk = codes.slice(i, i + CHUNK);
      const owners = (await this.redis.eval(CLAIM, 1, this.key, source, ...chunk)) as Array<string | null>;
      chunk.forEach((code, j) => {
        const owner = owners[j];
        if (owner && owner !== source) taken.set(code, owner);
      });
    }
    return taken;
  }

  /** Every claim: code → source. */
  async all(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.key)));
  }

  /** Gives up every code `source` holds (a source purged on purpose); returns how many. */
  async release(source: string): Promise<number> {
    const codes = [...(await this.all())].filter(([, owner]) => owner === source).map(([code]) => code);
    for (let i = 0; i < codes.length; i += CHUNK)
      await this.redis.hdel(this.key, ...codes.slice(i, i + CHUNK));
    return codes.length;
  }
}
