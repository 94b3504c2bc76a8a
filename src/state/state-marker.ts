/**
 * The state marker: one key that says "this prefix holds a worker's state" (checkpoints, ledger,
 * queues), with an id made when it was created. Every key under the prefix goes when Redis loses
 * its data (a flush, a restart without persistence, a failover to an empty replica), the marker
 * with them; a worker that saw the marker before (in memory, or in its evidence file outside
 * Redis) then knows the state was lost instead of taking the empty prefix for a first run.
 *
 * Also the `lost` key: set by the first worker that notices, so every worker (and `status`) stops
 * and says so until an operator decides (`resume`). Owns these two keys only.
 */
import { randomUUID } from 'node:crypto';
import { stateKey } from './keys.js';
import type { RedisClient } from './redis-client.js';

export interface StateMarker {
  id: string;
  /** Epoch ms. */
  createdAt: number;
  /** `first-run`: made by a worker on an empty prefix; `resume`: by an operator after a loss. */
  origin: 'first-run' | 'resume';
  /** `resume`: the time (Unix s) the event streams were set back to, or null for from the start. */
  resumedFrom?: number | null;
}

export interface StateLoss {
  /** Epoch ms, when noticed. */
  at: number;
  reason: string;
  /** The marker id the noticing worker knew. */
  knownMarker?: string;
  /** The last checkpoints the noticing worker saw, if it kept them (evidence file). */
  lastCheckpoints?: Record<string, { time: string; id: string; readUpTo?: number }>;
}

export class StateMarkerStore {
  private readonly markerKey: string;
  private readonly lostKey: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    this.markerKey = stateKey(prefix, 'marker');
    this.lostKey = stateKey(prefix, 'lost');
  }

  /** The marker and the loss record, in one round trip. */
  async read(): Promise<{ marker: StateMarker | null; lost: StateLoss | null }> {
    const [marker, lost] = await this.redis.mget(this.markerKey, this.lostKey);
    return {
      marker: marker ? (JSON.parse(marker) as StateMarker) : null,
      lost: lost ? (JSON.parse(lost) as StateLoss) : null,
    };
  }

  /** Creates the marker unless one exists; returns the one in Redis afterwards. */
  async createIfAbsent(origin: StateMarker['origin'], now = Date.now()): Promise<StateMarker> {
    const fresh: StateMarker = { id: randomUUID(), createdAt: now, origin };
    await this.redis.set(this.markerKey, JSON.stringify(fresh), 'NX');
    return (await this.read()).marker ?? fresh;
  }

  /** Records a loss unless one is recorded; returns the recorded one. */
  async declareLost(loss: StateLoss): Promise<StateLoss> {
    await this.redis.set(this.lostKey, JSON.stringify(loss), 'NX');
    return (await this.read()).lost ?? loss;
  }

  /** An operator's decision after a loss: a new marker (origin `resume`), the loss record gone. */
  async resume(resumedFrom: number | null, now = Date.now()): Promise<StateMarker> {
    const marker: StateMarker = { id: randomUUID(), createdAt: now, origin: 'resume', resumedFrom };
    await this.redis.multi().set(this.markerKey, JSON.stringify(marker)).del(this.lostKey).exec();
    return marker;
  }
}
