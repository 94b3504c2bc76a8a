/**
 * What ISP last accepted for each lot (parks) and each lot's space count (spotNums): one
 * fingerprint per park code, in a Redis hash per stream. The pipeline marks keys delivered after
 * ISP accepted them and removed after a DELETE /park/spot; the poller diffs the current table
 * against `delivered()` (src/vendor/snapshot-diff.ts). Holds fingerprints only, never payloads.
 */
import type { Redis } from 'ioredis';
import { stateKey } from './keys.js';

export type SnapshotStream = 'parks' | 'spotNums';

export class SnapshotStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(stream: SnapshotStream): string {
    return stateKey(this.prefix, 'snapshot', stream);
  }

  /** park code -> fingerprint of what ISP last accepted. */
  async delivered(stream: SnapshotStream): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.redis.hgetall(this.key(stream))));
  }

  async markDelivered(stream: SnapshotStream, entries: Iterable<readonly [string, string]>): Promise<void> {
    const flat: string[] = [];
    for (const [code, fingerprint] of entries) flat.push(code, fingerprint);
    if (flat.length) await this.redis.hset(this.key(stream), ...flat);
  }

  async markRemoved(stream: SnapshotStream, codes: readonly string[]): Promise<void> {
    if (codes.length) await this.redis.hdel(this.key(stream), ...codes);
  }

  /** Forget everything (the next poll sends every lot again). */
  async clear(stream: SnapshotStream): Promise<void> {
    await this.redis.del(this.key(stream));
  }
}
