/**
 * The delivered-key ledger: natural keys (src/spec/natural-keys.ts) of events ISP has accepted, so
 * that a replay, a backfill or a re-read never sends an event twice unless forced.
 *
 * Memory is the constraint (a million events must fit in a few MB): keys are bucketed by the
 * event's own day and by a hash, so each bucket is a small Redis hash that Redis keeps in its
 * compact listpack encoding, with an 8-byte digest of the natural key as field. A bucket lives
 * `ttlDays` past the later of its event day and its last delivery, and a check touches exactly one
 * bucket per event.
 *
 * CPU is the other constraint (it is on every event's path twice): a batch goes to Redis as one
 * script call with one packed argument, and the script names the buckets itself. Naming them here
 * (a key and two arguments per event) made the ledger a fifth of the worker's CPU.
 */
import type { Redis } from 'ioredis';
import { stateKey } from './keys.js';

export interface LedgerEntry {
  /** Natural key, e.g. `ATXL/1|鲁A12345|1772323200`. */
  key: string;
  /** Event time, Unix seconds: picks the day bucket. */
  time: number;
}

const DAY = 86_400;
/** Bytes per entry in the packed argument: day, bucket (uint32 BE each), 8-byte field. */
const ENTRY_BYTES = 16;

/**
 * KEYS[1]: the stream's ledger key base (also routes the call on Redis Cluster: every bucket shares
 * its {hash tag}); ARGV[1]: packed entries. Returns one '1'/'0' character per entry.
 */
const CHECK = `
local base, packed = KEYS[1], ARGV[1]
local out = {}
for pos = 1, #packed, ${ENTRY_BYTES} do
  local day, bucket, field = struct.unpack('>I4I4c8', packed, pos)
  out[#out + 1] = redis.call('HEXISTS', base .. ':' .. day .. ':' .. bucket, field)
end
return table.concat(out)`;

/** KEYS[1]: as CHECK; ARGV: packed entries, today (epoch day), ttlDays. */
const MARK = `
local base, packed = KEYS[1], ARGV[1]
local today, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
for pos = 1, #packed, ${ENTRY_BYTES} do
  local day, bucket, field = struct.unpack('>I4I4c8', packed, pos)
  local key = base .. ':' .. day .. ':' .. bucket
  redis.call('HSET', key, field, '1')
  redis.call('EXPIREAT', key, (math.max(today, day) + 1 + ttl) * ${DAY})
end
return #packed / ${ENTRY_BYTES}`;

/**
 * 64 bits of a string's UTF-16 code units (cyrb53's two multiply-xorshift lanes, both kept).
 * Not cryptographic, and need not be: it tells apart the few hundred keys that share a day bucket.
 * crypto's SHA-1 cost 2.5–4.4 µs a call here, twice per event.
 */
export function hash64(text: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}

export class DeliveredLedger {
  private readonly base: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    stream: string,
    private readonly ttlDays: number,
    /** Buckets per day: sized so ~100k events a day keep buckets under Redis' listpack limit (128). */
    private readonly bucketsPerDay = 4096,
  ) {
    this.base = stateKey(prefix, 'ledger', stream);
  }

  /** Which of the entries were already delivered (same order). One Redis call for the batch. */
  async delivered(entries: LedgerEntry[]): Promise<boolean[]> {
    if (entries.length === 0) return [];
    const flags = (await this.redis.eval(CHECK, 1, this.base, this.pack(entries))) as string;
    return Array.from(flags, (flag) => flag === '1');
  }

  /** Remembers the entries as delivered. One Redis call for the batch. */
  async markDelivered(entries: LedgerEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const today = Math.floor(Date.now() / 1000 / DAY);
    await this.redis.eval(MARK, 1, this.base, this.pack(entries), today, this.ttlDays);
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

  /** The bucket key and field of an entry (what the scripts compute from the packed form). */
  locate(entry: LedgerEntry): { bucket: string; field: Buffer } {
    const packed = this.pack([entry]);
    return {
      bucket: `${this.base}:${packed.readUInt32BE(0)}:${packed.readUInt32BE(4)}`,
      field: packed.subarray(8, 16),
    };
  }

  private pack(entries: LedgerEntry[]): Buffer {
    const out = Buffer.allocUnsafe(entries.length * ENTRY_BYTES);
    let pos = 0;
    for (const entry of entries) {
      const [h1, h2] = hash64(entry.key);
      out.writeUInt32BE(Math.floor(entry.time / DAY), pos);
      out.writeUInt32BE(h1 % this.bucketsPerDay, pos + 4);
      out.writeUInt32BE(h1, pos + 8);
      out.writeUInt32BE(h2, pos + 12);
      pos += ENTRY_BYTES;
    }
    return out;
  }
}
