/**
 * Short-lived sets of keys, for the low-latency mode (src/pipeline/events/sweep.ts):
 * - the vendor keys a live poll has read, so that the sweep behind it hands on only the rows the
 *   poll never saw (the ones committed late);
 * - the natural keys of entrances ISP has accepted, so that a departure whose entrance was just
 *   delivered may go at once instead of waiting for the entrances' sweep.
 *
 * Layout as in the ledger (src/state/ledger.ts): one Redis STRING per slice of time
 * (`<base>:s<slice>`) holding concatenated 8-byte digests, but every write sets the slice to expire
 * `ttlSeconds` after it: these keys matter only until the sweep has passed them, not for days.
 * The caller picks each entry's slice (a time the reader of the key will know too), so a lookup
 * scans one slice's string: ~5,000 keys at 500 events/s with 10 s slices.
 */

import { stateKey } from './keys.js';
import { hash64 } from './ledger.js';
import type { RedisClient } from './redis-client.js';
import { scriptCommands } from './scripts.js';

export interface RecentKey {
  /** Slice number (e.g. a time divided by the slice length): picks the bucket. */
  slice: number;
  key: string;
}

/** Bytes per entry in the packed argument: slice (uint32 BE), 8-byte digest. */
const ENTRY_BYTES = 12;

const HEAD = `
local base, packed = KEYS[1], ARGV[1]
local strings = {}
local function bucket(slice)
  local s = strings[slice]
  if not s then
    s = redis.call('GET', base .. ':s' .. slice) or ''
    strings[slice] = s
  end
  return s
end
local function find(s, d)
  local at = string.find(s, d, 1, true)
  while at and (at - 1) % 8 ~= 0 do
    at = string.find(s, d, at - (at - 1) % 8 + 8, true)
  end
  return at
end
`;

const CHECK = `${HEAD}
local out = {}
for pos = 1, #packed, ${ENTRY_BYTES} do
  local slice, digest = struct.unpack('>I4c8', packed, pos)
  out[#out + 1] = find(bucket(slice), digest) and '1' or '0'
end
return table.concat(out)`;

/** ARGV[2]: seconds each touched slice lives from now. Appends without a lookup (a repeat costs 8 bytes). */
const MARK = `
local base, packed, ttl = KEYS[1], ARGV[1], tonumber(ARGV[2])
local added, order = {}, {}
for pos = 1, #packed, ${ENTRY_BYTES} do
  local slice, digest = struct.unpack('>I4c8', packed, pos)
  local list = added[slice]
  if not list then
    list = {}
    added[slice] = list
    order[#order + 1] = slice
  end
  list[#list + 1] = digest
end
for _, slice in ipairs(order) do
  local key = base .. ':s' .. slice
  redis.call('APPEND', key, table.concat(added[slice]))
  redis.call('EXPIRE', key, ttl)
end
return #order`;

interface RecentKeyCommands {
  ispRecentCheck(base: string, packed: Buffer): Promise<string>;
  ispRecentMark(base: string, packed: Buffer, ttlSeconds: number): Promise<number>;
}

export class RecentKeys {
  private readonly base: string;
  private readonly commands: RecentKeyCommands;

  constructor(
    redis: RedisClient,
    prefix: string,
    name: string,
    private readonly ttlSeconds: number,
  ) {
    this.base = stateKey(prefix, 'recent', name);
    this.commands = scriptCommands<RecentKeyCommands>(redis, {
      ispRecentCheck: { numberOfKeys: 1, lua: CHECK },
      ispRecentMark: { numberOfKeys: 1, lua: MARK },
    });
  }

  /** Which of the keys are there (same order). One Redis call. */
  async has(entries: readonly RecentKey[]): Promise<boolean[]> {
    if (entries.length === 0) return [];
    const flags = await this.commands.ispRecentCheck(this.base, pack(entries));
    return Array.from(flags, (flag) => flag === '1');
  }

  /** Adds the keys; their slices live `ttlSeconds` from now. One Redis call. */
  async add(entries: readonly RecentKey[]): Promise<void> {
    if (entries.length === 0) return;
    await this.commands.ispRecentMark(this.base, pack(entries), this.ttlSeconds);
  }
}

function pack(entries: readonly RecentKey[]): Buffer {
  const out = Buffer.allocUnsafe(entries.length * ENTRY_BYTES);
  let pos = 0;
  for (const entry of entries) {
    const [h1, h2] = hash64(entry.key);
    out.writeUInt32BE(Math.max(0, Math.floor(entry.slice)) >>> 0, pos);
    out.writeUInt32BE(h1, pos + 4);
    out.writeUInt32BE(h2, pos + 8);
    pos += ENTRY_BYTES;
  }
  return out;
}
