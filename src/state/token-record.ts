/**
 * What the workers' ISP token managers last did, for `status` and the status page (a `status`
 * process holds no token of its own): the expiry of the newest token a worker fetched, and the
 * last refusal. Never the token itself. One key under the prefix.
 */

import { stateKey } from './keys.js';
import type { RedisClient } from './redis-client.js';

export interface TokenRecord {
  /** Epoch ms: the newest token fetched by any worker expires then. */
  expiresAt?: number;
  /** Epoch ms, when it was fetched. */
  obtainedAt?: number;
  /** The last failure to get a token, and when (epoch ms). */
  error?: { message: string; at: number };
}

// Keeps the later expiry (several workers hold tokens) and the last error; a fetch after an error
// clears it.
const RECORD = `
local current = redis.call('GET', KEYS[1])
local r = current and cjson.decode(current) or {}
local change = cjson.decode(ARGV[1])
if change.expiresAt then
  if not r.expiresAt or change.expiresAt >= r.expiresAt then
    r.expiresAt = change.expiresAt
    r.obtainedAt = change.obtainedAt
  end
  if r.error and r.error.at <= change.obtainedAt then r.error = nil end
else
  r.error = { message = change.error, at = change.at }
end
redis.call('SET', KEYS[1], cjson.encode(r))
return 0`;

export class TokenRecordStore {
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.key = stateKey(prefix, 'isp-token');
  }

  async record(
    change: { expiresAt: number; obtainedAt: number } | { error: string; at: number },
  ): Promise<void> {
    await this.redis.eval(RECORD, 1, this.key, JSON.stringify(change));
  }

  async get(): Promise<TokenRecord | null> {
    const value = await this.redis.get(this.key);
    return value ? (JSON.parse(value) as TokenRecord) : null;
  }
}
