/**
 * The audit of discarded failed jobs: a failed push job is an undelivered event, so removing one is
 * an operator's deliberate act (`replay --discard --reason …`) and each is recorded here before the
 * job is removed: when, which queue and job, the natural keys and lots of its records, ISP's
 * reason and the operator's. Kept in one Redis stream under the prefix, never trimmed (a few
 * hundred bytes per discarded job). Owns only this key; removes nothing itself.
 */

import { stateKey } from './keys.js';
import type { RedisClient } from './redis-client.js';

export interface DiscardRecord {
  /** When, epoch ms. */
  at: number;
  queue: string;
  jobId: string;
  /** Natural keys of the job's records (`park|plate|time`), or the lot code of a lot job. */
  keys: string[];
  lots: string[];
  /** ISP's reason (the job's failedReason). */
  ispReason: string;
  /** The operator's reason (`--reason`). */
  reason: string;
  /** Who ran the command (the OS user), when known. */
  operator?: string;
}

export class DiscardAudit {
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.key = stateKey(prefix, 'discarded');
  }

  /** Appends a record; returns its stream id. */
  async add(record: DiscardRecord): Promise<string> {
    const id = await this.redis.xadd(this.key, '*', 'json', JSON.stringify(record));
    return String(id);
  }

  /** Newest first, up to `limit`. */
  async list(limit = 100): Promise<Array<DiscardRecord & { id: string }>> {
    const entries = await this.redis.xrevrange(this.key, '+', '-', 'COUNT', limit);
    return entries.map(([id, fields]) => {
      const json = fields[fields.indexOf('json') + 1] ?? '{}';
      return { id, ...(JSON.parse(json) as DiscardRecord) };
    });
  }

  async count(): Promise<number> {
    return this.redis.xlen(this.key);
  }
}
