/**
 * The delivered-key ledger: natural keys (src/spec/natural-keys.ts) of events ISP has accepted, so
 * that a replay, a backfill or a re-read never sends an event twice unless forced.
 *
 * Memory is the constraint (a million events must fit in a few MB): keys are bucketed by the
 * event's own day and by a hash, so each bucket is a small Redis hash that Redis keeps in its
 * compact listpack encoding, with an 8-byte digest of the natural key as field. A bucket lives
 * `ttlDays` past the later of its event day and its last delivery, and a check touches exactly one
 * bucket per event.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { stateKey } from './keys.js';

export interface LedgerEntry {
  /** Natural key, e.g. `ATXL/1|鲁A12345|1772323200`. */
  key: string;
  /** Event time, Unix seconds: picks the day bucket. */
  time: number;
}

const DAY = 86_400;

/** KEYS: buckets; ARGV: the fields, same order. Returns 1/0 per entry. */
const CHECK = `
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HEXISTS', KEYS[i], ARGV[i]) end
return out`;

/** KEYS: buckets; ARGV: field and expiry (Unix s) per bucket, in pairs. */
const MARK = `
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], ARGV[2 * i - 1], '1')
  redis.call('EXPIREAT', KEYS[i], ARGV[2 * i])
end
return #KEYS`;

export class DeliveredLedger {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly stream: string,
    private readonly ttlDays: number,
    /** Buckets per day: sized so ~100k events a day keep buckets under Redis' listpack limit (128). */
    private readonly bucketsPerDay = 4096,
  ) {}

  /** Which of the entries were already delivered (same order). One Redis call for the batch. */
  async delivered(entries: LedgerEntry[]): Promise<boolean[]> {
    if (entries.length === 0) return [];
    const located = entries.map((entry) => this.locate(entry));
    const flags = (await this.redis.eval(
      CHECK,
      located.length,
      ...located.map((l) => l.bucket),
      ...located.map((l) => l.field),
    )) as number[];
    return flags.map((flag) => flag === 1);
  }

  /** Remembers the entries as delivered. One Redis call for the batch. */
  async markDelivered(entries: LedgerEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const today = Math.floor(Date.now() / 1000 / DAY);
    const keys: string[] = [];
    const args: Array<Buffer | number> = [];
    for (const entry of entries) {
      const { bucket, field } = this.locate(entry);
      const lastDay = Math.max(today, Math.floor(entry.time / DAY));
      keys.push(bucket);
      args.push(field, (lastDay + 1 + this.ttlDays) * DAY);
    }
    await this.redis.eval(MARK, keys.length, ...keys, ...args);
  }

  /** Forget entries (used by `replay --force` tests and operators re-sending on purpose). */
  async forget(entries: LedgerEntry[]): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const entry of entries) {
      const { bucket, field } = this.locate(entry);
      pipeline.hdel(bucket, field);
    }
    await pipeline.exec();
  }

  private locate(entry: LedgerEntry): { bucket: string; field: Buffer } {
    const digest = createHash('sha1').update(entry.key).digest();
    const day = Math.floor(entry.time / DAY);
    const bucketNo = digest.readUInt32BE(16) % this.bucketsPerDay;
    return {
      bucket: stateKey(this.prefix, 'ledger', this.stream, String(day), String(bucketNo)),
      field: digest.subarray(0, 8),
    };
  }
}
