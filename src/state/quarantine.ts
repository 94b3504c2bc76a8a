/**
 * The quarantine: vendor rows that could not become a valid payload, kept in Redis with their
 * stream, vendor key, reasons, raw row and time, so an operator can see why, fix the config (or the
 * vendor data) and re-drive them. Bounded: only the newest `max` entries are kept. One entry per
 * (stream, vendor key): quarantining the same row again replaces it and counts how often.
 * Adding never blocks anything: the caller's cursor moves on regardless.
 *
 * Keys (all under the configured prefix, one hash slot):
 *   <prefix>:state:quarantine:entries   hash  id -> JSON entry
 *   <prefix>:state:quarantine:seen      hash  id -> "count|firstAtMs"
 *   <prefix>:state:quarantine:all       zset  id by time (ms)
 *   <prefix>:state:quarantine:s:<stream> zset  id by time, per stream
 * Owns only these keys; never touches the vendor's data.
 */

import { STREAM_NAMES, type StreamName } from '../config/index.js';
import { rowsQuarantined } from '../metrics.js';
import { stateKey } from './keys.js';
import type { RedisClient } from './redis-client.js';

export interface QuarantineReasonLike {
  code: string;
  field?: string;
  message: string;
}

export interface QuarantineInput {
  stream: StreamName;
  vendorKey: string;
  reasons: readonly QuarantineReasonLike[];
  /** The raw vendor row as the reader handed it (JSON-safe values). */
  row: unknown;
  /** When, epoch ms; default now. */
  at?: number;
}

export interface QuarantineEntry {
  /** `<stream>:<vendorKey>`. */
  id: string;
  stream: StreamName;
  vendorKey: string;
  reasons: QuarantineReasonLike[];
  row: unknown;
  /** Last time quarantined, epoch ms. */
  at: number;
  /** First time quarantined, epoch ms. */
  firstAt: number;
  /** Times this row was quarantined (re-reads, failed re-drives). */
  count: number;
}

export interface QuarantineListOptions {
  stream?: StreamName;
  /** Default 50. */
  limit?: number;
  offset?: number;
}

export interface QuarantinePage {
  /** Entries matching the filter (all of them, not just this page). */
  total: number;
  /** Newest first. */
  entries: QuarantineEntry[];
}

export type QuarantineTakeFilter = { stream?: StreamName; limit?: number };

// KEYS (every script): entries, seen, all, s:parks, s:spotNums, s:entrances, s:departures.
// forget(id) removes an entry from all of them; take(id, out) appends its [id, json, seen] first.
const HELPERS = `
local function forget(id)
  redis.call('HDEL', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  for k = 3, 7 do redis.call('ZREM', KEYS[k], id) end
end
local function take(id, out)
  local json = redis.call('HGET', KEYS[1], id)
  if json then
    table.insert(out, id)
    table.insert(out, json)
    table.insert(out, redis.call('HGET', KEYS[2], id) or '1|0')
  end
  forget(id)
end
`;

// ARGV: id, json, at, max, streamIndex (1-based into the per-stream keys)
const ADD = `${HELPERS}
local id, json, at, max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local streamKey = KEYS[3 + tonumber(ARGV[5])]
redis.call('HSET', KEYS[1], id, json)
local seen = redis.call('HGET', KEYS[2], id)
local count, first = 1, at
if seen then
  local sep = string.find(seen, '|', 1, true)
  count = tonumber(string.sub(seen, 1, sep - 1)) + 1
  first = tonumber(string.sub(seen, sep + 1))
end
redis.call('HSET', KEYS[2], id, count .. '|' .. string.format('%.0f', first))
redis.call('ZADD', KEYS[3], at, id)
redis.call('ZADD', streamKey, at, id)
local n = redis.call('ZCARD', KEYS[3])
local evicted = 0
if n > max then
  for _, oid in ipairs(redis.call('ZRANGE', KEYS[3], 0, n - max - 1)) do
    forget(oid)
    evicted = evicted + 1
  end
end
return {count, evicted}
`;

// ARGV: ids... Returns [id, json, seen] triples of the removed entries.
const TAKE_IDS = `${HELPERS}
local out = {}
for _, id in ipairs(ARGV) do take(id, out) end
return out
`;

// ARGV: source index key (1-based into KEYS), limit. Oldest first, removed atomically.
const TAKE_OLDEST = `${HELPERS}
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[tonumber(ARGV[1])], 0, tonumber(ARGV[2]) - 1)) do take(id, out) end
return out
`;

interface StoredEntry {
  stream: StreamName;
  vendorKey: string;
  reasons: QuarantineReasonLike[];
  row: unknown;
  at: number;
}

export class QuarantineStore {
  private readonly keys: string[];

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    /** Entries kept (config.pipeline.quarantineMax); the oldest beyond it are dropped. */
    private readonly max: number,
    /** Whose rows these are (config.source.name): the `source` label of isp_sync_rows_quarantined_total. */
    private readonly source: string,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`quarantine max must be >= 1, got ${max}`);
    this.keys = [
      this.key('entries'),
      this.key('seen'),
      this.key('all'),
      ...STREAM_NAMES.map((stream) => this.key('s', stream)),
    ];
  }

  static idOf(stream: StreamName, vendorKey: string): string {
    return `${stream}:${vendorKey}`;
  }

  /** Stores (or replaces) the row's entry; counts it in rowsQuarantined{source,stream,reason}. Returns its id. */
  async add(input: QuarantineInput): Promise<string> {
    const id = QuarantineStore.idOf(input.stream, input.vendorKey);
    const at = input.at ?? Date.now();
    const stored: StoredEntry = {
      stream: input.stream,
      vendorKey: input.vendorKey,
      reasons: input.reasons.map((r) => ({ ...r })),
      row: input.row,
      at,
    };
    const streamIndex = STREAM_NAMES.indexOf(input.stream) + 1;
    if (streamIndex === 0) throw new RangeError(`unknown stream ${input.stream}`);
    await this.redis.eval(
      ADD,
      this.keys.length,
      ...this.keys,
      id,
      JSON.stringify(stored),
      at,
      this.max,
      streamIndex,
    );
    const codes = new Set(input.reasons.map((r) => r.code));
    const source = this.source;
    if (codes.size === 0) rowsQuarantined.inc({ source, stream: input.stream, reason: 'unknown' });
    for (const code of codes) rowsQuarantined.inc({ source, stream: input.stream, reason: code });
    return id;
  }

  /** A page of entries, newest first, with the total for the filter. */
  async list(options: QuarantineListOptions = {}): Promise<QuarantinePage> {
    const limit = Math.max(0, options.limit ?? 50);
    const offset = Math.max(0, options.offset ?? 0);
    const index = options.stream ? this.key('s', options.stream) : this.key('all');
    const [total, ids] = await Promise.all([
      this.redis.zcard(index),
      limit === 0 ? Promise.resolve([]) : this.redis.zrevrange(index, offset, offset + limit - 1),
    ]);
    return { total, entries: await this.load(ids) };
  }

  async get(id: string): Promise<QuarantineEntry | undefined> {
    return (await this.load([id]))[0];
  }

  /** Which of a stream's vendor rows are in the quarantine (same order). One Redis call. */
  async present(stream: StreamName, vendorKeys: readonly string[]): Promise<boolean[]> {
    if (vendorKeys.length === 0) return [];
    const seen = await this.redis.hmget(
      this.key('seen'),
      ...vendorKeys.map((k) => QuarantineStore.idOf(stream, k)),
    );
    return seen.map((v) => v !== null);
  }

  /** Entries per stream. */
  async counts(): Promise<Record<StreamName, number>> {
    const pipeline = this.redis.pipeline();
    for (const stream of STREAM_NAMES) pipeline.zcard(this.key('s', stream));
    const results = (await pipeline.exec()) ?? [];
    const out = {} as Record<StreamName, number>;
    STREAM_NAMES.forEach((stream, i) => {
      const [error, value] = results[i] ?? [null, 0];
      if (error) throw error;
      out[stream] = Number(value);
    });
    return out;
  }

  /** Removes entries by id; returns how many existed. */
  async remove(ids: string | readonly string[]): Promise<number> {
    return (await this.takeIds(typeof ids === 'string' ? [ids] : ids)).length;
  }

  /**
   * Removes and returns entries for re-driving: by ids, or the oldest `limit` (default 100) of a
   * stream (or of all streams). Atomic, so two operators cannot re-drive the same row twice. The
   * caller re-transforms `row` with the fixed config and adds back what still fails.
   */
  async take(selection: readonly string[] | QuarantineTakeFilter): Promise<QuarantineEntry[]> {
    if (Array.isArray(selection)) return this.takeIds(selection as readonly string[]);
    const filter = selection as QuarantineTakeFilter;
    const limit = Math.max(1, filter.limit ?? 100);
    const source = filter.stream ? 4 + STREAM_NAMES.indexOf(filter.stream) : 3;
    const out = (await this.redis.eval(
      TAKE_OLDEST,
      this.keys.length,
      ...this.keys,
      source,
      limit,
    )) as string[];
    return this.parseTriples(out);
  }

  private async takeIds(ids: readonly string[]): Promise<QuarantineEntry[]> {
    if (ids.length === 0) return [];
    const out = (await this.redis.eval(TAKE_IDS, this.keys.length, ...this.keys, ...ids)) as string[];
    return this.parseTriples(out);
  }

  private parseTriples(flat: string[]): QuarantineEntry[] {
    const entries: QuarantineEntry[] = [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      entries.push(this.entryOf(flat[i]!, flat[i + 1]!, flat[i + 2]!));
    }
    return entries;
  }

  private async load(ids: readonly string[]): Promise<QuarantineEntry[]> {
    if (ids.length === 0) return [];
    const [jsons, seen] = await Promise.all([
      this.redis.hmget(this.key('entries'), ...ids),
      this.redis.hmget(this.key('seen'), ...ids),
    ]);
    const entries: QuarantineEntry[] = [];
    ids.forEach((id, i) => {
      const json = jsons[i];
      if (json) entries.push(this.entryOf(id, json, seen[i] ?? '1|0'));
    });
    return entries;
  }

  private entryOf(id: string, json: string, seen: string): QuarantineEntry {
    const stored = JSON.parse(json) as StoredEntry;
    const [count, firstAt] = seen.split('|').map(Number);
    return {
      id,
      stream: stored.stream,
      vendorKey: stored.vendorKey,
      reasons: stored.reasons,
      row: stored.row,
      at: stored.at,
      firstAt: firstAt || stored.at,
      count: count || 1,
    };
  }

  private key(...parts: string[]): string {
    return stateKey(this.prefix, 'quarantine', ...parts);
  }
}
