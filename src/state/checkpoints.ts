/**
 * Where each event stream has read up to: one keyset cursor (time, id) per stream, kept durably in
 * Redis under the configured prefix. The store only gets and sets; the caller advances a
 * checkpoint after its work is safely handed on (enqueued or quarantined), never before.
 *
 * `set` refuses to move a checkpoint backwards unless forced (a second poller, or a bug, would
 * otherwise make us re-read and re-send): the comparison runs in Redis, atomically. It compares
 * like the vendor's ORDER BY for the usual cursor columns: DATETIME text, and whole numbers
 * (epoch times, ids of any length) by value.
 */

import type { Cursor } from '../config/vendor-rows.js';
import { stateKey } from './keys.js';
import type { RedisClient } from './redis-client.js';

export interface Checkpoint extends Cursor {
  /** When it was last set, Unix ms (our clock). */
  updatedAt: number;
}

/** `set` was asked to move a checkpoint backwards. */
export class CheckpointRegressionError extends Error {
  override readonly name = 'CheckpointRegressionError';
  constructor(
    readonly stream: string,
    readonly current: Cursor,
    readonly requested: Cursor,
  ) {
    super(
      `checkpoint of ${stream} is at (${current.time}, ${current.id}); refusing to move it back to ` +
        `(${requested.time}, ${requested.id}) — is another poller running? Use force to rewind on purpose`,
    );
  }
}

// Returns the stored value when the new cursor is behind it (nothing written), else nil.
const SET_FORWARD = `
local function cmp(a, b)
  if a == b then return 0 end
  if string.match(a, '^%d+$') and string.match(b, '^%d+$') then
    a = string.gsub(a, '^0+(%d)', '%1')
    b = string.gsub(b, '^0+(%d)', '%1')
    if #a ~= #b then return #a < #b and -1 or 1 end
  end
  if a == b then return 0 end
  return a < b and -1 or 1
end
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and ARGV[5] ~= '1' then
  local c = cjson.decode(current)
  local order = cmp(ARGV[2], tostring(c.time))
  if order == 0 then order = cmp(ARGV[3], tostring(c.id)) end
  if order < 0 then return current end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
return false
`;

export class CheckpointStore {
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.key = stateKey(prefix, 'checkpoints');
  }

  async get(stream: string): Promise<Checkpoint | null> {
    const value = await this.redis.hget(this.key, stream);
    return value === null ? null : parse(value);
  }

  /**
   * Moves the stream's checkpoint to `cursor`. Throws CheckpointRegressionError when that is behind
   * the stored one, unless `force` (an operator's rewind or a backfill's reset).
   */
  async set(stream: string, cursor: Cursor, options: { force?: boolean } = {}): Promise<void> {
    const value: Checkpoint = { time: String(cursor.time), id: String(cursor.id), updatedAt: Date.now() };
    const refused = (await this.redis.eval(
      SET_FORWARD,
      1,
      this.key,
      stream,
      value.time,
      value.id,
      JSON.stringify(value),
      options.force ? '1' : '0',
    )) as string | null;
    if (refused) throw new CheckpointRegressionError(stream, parse(refused), cursor);
  }

  /** The cursor time of the stream's checkpoint (vendor text), for lag; null before the first read. */
  async time(stream: string): Promise<string | null> {
    return (await this.get(stream))?.time ?? null;
  }

  async all(): Promise<Record<string, Checkpoint>> {
    const entries = await this.redis.hgetall(this.key);
    const out: Record<string, Checkpoint> = {};
    for (const [stream, value] of Object.entries(entries)) out[stream] = parse(value);
    return out;
  }

  /** Forgets the stream's checkpoint: the next read starts at the beginning of the table. */
  async reset(stream: string): Promise<void> {
    await this.redis.hdel(this.key, stream);
  }
}

function parse(value: string): Checkpoint {
  const v = JSON.parse(value) as Partial<Checkpoint>;
  return { time: String(v.time), id: String(v.id), updatedAt: Number(v.updatedAt ?? 0) };
}
