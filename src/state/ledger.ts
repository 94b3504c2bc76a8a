/**
 * The delivered-key ledger: natural keys (src/isp-spec/natural-keys.ts) of events ISP has accepted, so
 * that a replay, a backfill or a re-read never sends an event twice unless forced.
 *
 * Layout: one Redis STRING per slice of event time (SLICE_SECONDS, `<base>:m<slice>`), the
 * concatenated 8-byte digests of the keys delivered for events of that slice. A bucket lives
 * `ttlDays` past the later of its event day and its last delivery.
 *
 * Memory (a million events must fit in a few MB): 8 bytes a key, as each write stores the slice's
 * string at its exact size, and a bucket's own key overhead is shared by the events of its slice
 * (~9 bytes a key measured, against ~16 in the listpack hash buckets this replaced).
 *
 * CPU (the ledger is on every event's path twice): a batch goes to Redis as one script call (by
 * SHA) with one packed argument, and batches are consecutive in event time, so the script makes
 * one or two `redis.call`s per slice the batch spans, not per event (HEXISTS/HSET/EXPIREAT per
 * event, ~3.5 µs of Redis time an event, made the ledger the largest Redis cost of the pipeline;
 * ~0.9 µs now). A lookup scans its slice's string, so the cost grows with events per slice.
 */

import { stateKey } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { scriptCommands } from './scripts.js';

export interface LedgerEntry {
  /** Natural key, e.g. `ATXL/1|鲁A12345|1772323200`. */
  key: string;
  /** Event time, Unix seconds: picks the bucket. */
  time: number;
}

const DAY = 86_400;
/**
 * Seconds of event time per bucket. A batch (keyset reads by time) spans few slices, so a call
 * touches few buckets. The price is the scan, twice per event (check, then mark's recheck):
 * measured per event of Redis time, 60 s slices cost 0.9 µs on a sparse stream and ~2 µs in the
 * pipeline bench (seven days of visits: a batch spans ~10 slices); 15 s slices cost more there
 * (~3 µs, ~33 slices a batch) but less on a stream of 10M events a day (1.9 µs against 5.3 µs,
 * 56 KB strings a minute), far beyond a city's parking traffic. Must divide a day (the scripts
 * derive a slice's day from it).
 */
export const SLICE_SECONDS = 60;
/** Bytes per entry in the packed argument: slice (uint32 BE), 8-byte digest. */
const ENTRY_BYTES = 12;

/**
 * Shared head of the scripts. KEYS[1]: the stream's ledger key base (also routes the call on Redis
 * Cluster: every bucket shares its {hash tag}); ARGV[1]: packed entries.
 */
const HEAD = `
local base, packed = KEYS[1], ARGV[1]
-- Each slice's string is read once per call, however many entries of the batch fall in it.
local strings = {}
local function bucket(slice)
  local s = strings[slice]
  if not s then
    s = redis.call('GET', base .. ':m' .. slice) or ''
    strings[slice] = s
  end
  return s
end
-- 1-based position of digest d in s, or nil. Only 8-aligned matches count: a plain find can also
-- match across the boundary of two neighbouring digests, so search on from the next boundary.
local function find(s, d)
  local at = string.find(s, d, 1, true)
  while at and (at - 1) % 8 ~= 0 do
    at = string.find(s, d, at - (at - 1) % 8 + 8, true)
  end
  return at
end
`;

/** Returns one '1'/'0' character per entry. */
const CHECK = `${HEAD}
local out = {}
for pos = 1, #packed, ${ENTRY_BYTES} do
  local slice, digest = struct.unpack('>I4c8', packed, pos)
  out[#out + 1] = find(bucket(slice), digest) and '1' or '0'
end
return table.concat(out)`;

/**
 * ARGV[2]: today (epoch day), ARGV[3]: ttlDays. Adds only digests not yet there (a forced re-send
 * or a duplicate within the batch must not grow the string), and refreshes each touched slice's
 * expiry even with nothing new: it counts from the last delivery.
 */
const MARK = `${HEAD}
local today, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local added = {} -- per slice: digests to add (array part), and as a set (hash part)
for pos = 1, #packed, ${ENTRY_BYTES} do
  local slice, digest = struct.unpack('>I4c8', packed, pos)
  local new = added[slice]
  if not new then
    new = {}
    added[slice] = new
  end
  if not new[digest] and not find(bucket(slice), digest) then
    new[digest] = true
    new[#new + 1] = digest
  end
end
for slice, new in pairs(added) do
  local key = base .. ':m' .. slice
  local at = (math.max(today, math.floor(slice / ${DAY / SLICE_SECONDS})) + 1 + ttl) * ${DAY}
  if #new > 0 then
    -- SET of the whole string, not APPEND: APPEND's growth slack doubled the memory.
    redis.call('SET', key, strings[slice] .. table.concat(new), 'EXAT', at)
  else
    redis.call('EXPIREAT', key, at)
  end
end
return #packed / ${ENTRY_BYTES}`;

/** Cuts each entry's digest out of its slice; a slice left empty is deleted. */
const FORGET = `${HEAD}
local changed = {}
for pos = 1, #packed, ${ENTRY_BYTES} do
  local slice, digest = struct.unpack('>I4c8', packed, pos)
  local s = bucket(slice)
  local at = find(s, digest)
  if at then
    strings[slice] = string.sub(s, 1, at - 1) .. string.sub(s, at + 8)
    changed[slice] = true
  end
end
for slice in pairs(changed) do
  local key = base .. ':m' .. slice
  if strings[slice] == '' then
    redis.call('DEL', key)
  else
    redis.call('SET', key, strings[slice], 'KEEPTTL')
  end
end
return 0`;

interface LedgerCommands {
  ispLedgerCheck(base: string, packed: Buffer): Promise<string>;
  ispLedgerMark(base: string, packed: Buffer, today: number, ttlDays: number): Promise<number>;
  ispLedgerForget(base: string, packed: Buffer): Promise<number>;
}

/**
 * 64 bits of a string's UTF-16 code units (cyrb53's two multiply-xorshift lanes, both kept).
 * Not cryptographic, and need not be: it tells apart the keys that share a slice's bucket.
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
  private readonly commands: LedgerCommands;

  constructor(
    redis: RedisClient,
    prefix: string,
    stream: string,
    private readonly ttlDays: number,
  ) {
    this.base = stateKey(prefix, 'ledger', stream);
    this.commands = scriptCommands<LedgerCommands>(redis, {
      ispLedgerCheck: { numberOfKeys: 1, lua: CHECK },
      ispLedgerMark: { numberOfKeys: 1, lua: MARK },
      ispLedgerForget: { numberOfKeys: 1, lua: FORGET },
    });
  }

  /** Which of the entries were already delivered (same order). One Redis call for the batch. */
  async delivered(entries: LedgerEntry[]): Promise<boolean[]> {
    if (entries.length === 0) return [];
    const flags = await this.commands.ispLedgerCheck(this.base, this.pack(entries));
    return Array.from(flags, (flag) => flag === '1');
  }

  /** Remembers the entries as delivered. One Redis call for the batch. */
  async markDelivered(entries: LedgerEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const today = Math.floor(Date.now() / 1000 / DAY);
    await this.commands.ispLedgerMark(this.base, this.pack(entries), today, this.ttlDays);
  }

  /** Forget entries (used by `replay --force` tests and operators re-sending on purpose). */
  async forget(entries: LedgerEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.commands.ispLedgerForget(this.base, this.pack(entries));
  }

  /** The bucket key of an entry and its digest (what the scripts compute from the packed form). */
  locate(entry: LedgerEntry): { bucket: string; digest: Buffer } {
    const packed = this.pack([entry]);
    return { bucket: `${this.base}:m${packed.readUInt32BE(0)}`, digest: packed.subarray(4) };
  }

  private pack(entries: LedgerEntry[]): Buffer {
    const out = Buffer.allocUnsafe(entries.length * ENTRY_BYTES);
    let pos = 0;
    for (const entry of entries) {
      const [h1, h2] = hash64(entry.key);
      out.writeUInt32BE(Math.floor(entry.time / SLICE_SECONDS), pos);
      out.writeUInt32BE(h1, pos + 4);
      out.writeUInt32BE(h2, pos + 8);
      pos += ENTRY_BYTES;
    }
    return out;
  }
}
