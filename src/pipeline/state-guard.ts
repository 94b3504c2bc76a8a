/**
 * Detects that Redis lost the worker's state, and never guesses around it.
 *
 * What is knowable: Redis keeps a marker (src/state/state-marker.ts); every key of the prefix goes
 * with it when Redis loses its data. The vendor database is read-only and ISP cannot be asked what
 * it has, so the only evidence of an earlier run that survives the loss lives with the worker:
 * in memory while it runs, and in an evidence file under `redis.stateDir` (one per Redis server and
 * prefix: the marker's id and the last checkpoints seen) across its restarts. The rules:
 * - no marker, no evidence: a first run; the marker is created;
 * - no marker, but this worker saw one (memory or file): the state was lost;
 * - a marker other than the one seen, not made by an operator's `resume`: the state was lost and
 *   another worker started afresh on the empty Redis;
 * - a loss already recorded in Redis by any worker: lost, until an operator runs `resume`.
 * While lost, polls do nothing (a poll from an empty checkpoint would re-read and re-send the
 * vendor's whole history, and new rows would be read past the jobs Redis lost).
 *
 * Owns the evidence file; reads checkpoints only to keep them in it. Never writes checkpoints.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Config, parseRedisUrl } from '../config/index.js';
import type { Logger } from '../log.js';
import { type StateLoss, type StateMarker, StateMarkerStore } from '../state/state-marker.js';
import type { Runtime } from './runtime.js';

/** What the evidence file holds. */
export interface StateEvidence {
  redis: string;
  prefix: string;
  markerId: string;
  /** Epoch ms of the last write. */
  seenAt: number;
  /** Event streams' checkpoints and read-up-to times (Unix s) at the last check. */
  checkpoints: Record<string, { time: string; id: string; readUpTo?: number }>;
}

export type StateVerdict =
  | { ok: true; marker: StateMarker; firstRun?: boolean; resumed?: boolean }
  | { ok: false; loss: StateLoss; message: string };

/**
 * Which Redis the evidence belongs to: `host:port/db`, or for a cluster `cluster:` and its seed
 * nodes in order (a seed list rewritten in another order is still the same cluster).
 */
function redisIdentity(url: string): string {
  const target = parseRedisUrl(url);
  const nodes = target.nodes.map((n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`);
  return target.cluster ? `cluster:${nodes.sort().join(',')}` : `${nodes[0]}/${target.db}`;
}

/** Where the evidence of one Redis server (or cluster) and prefix is kept. */
export function evidencePath(config: Config): string {
  const where = `${redisIdentity(config.redis.url)}|${config.redis.prefix}`;
  const hash = createHash('sha256').update(where).digest('hex').slice(0, 16);
  const name = config.redis.prefix.replace(/[^A-Za-z0-9_-]/g, '') || 'prefix';
  return join(config.redis.stateDir, `${name}-${hash}.json`);
}

export function readEvidence(config: Config): StateEvidence | undefined {
  try {
    return JSON.parse(readFileSync(evidencePath(config), 'utf8')) as StateEvidence;
  } catch {
    return undefined;
  }
}

/** Forgets this prefix's evidence: for a deliberate fresh start (the demo clears its prefix). */
export function forgetStateEvidence(config: Config): void {
  rmSync(evidencePath(config), { force: true });
}

function writeEvidence(config: Config, evidence: StateEvidence): void {
  const path = evidencePath(config);
  mkdirSync(config.redis.stateDir, { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(evidence, null, 2)}\n`);
  renameSync(temporary, path);
}

/** The operator's choices after a loss, with the time to resume from when it is known. */
export function lossAdvice(loss: StateLoss, zone: string): string {
  const times = Object.values(loss.lastCheckpoints ?? {})
    .map((c) => c.readUpTo)
    .filter((t): t is number => typeof t === 'number');
  const from = times.length ? new Date(Math.min(...times) * 1000).toISOString() : undefined;
  return (
    'Polling is stopped. Choose: (a) `isp-park-sync resume --from <time>` re-reads every stream from that time ' +
    `(${from ? `the last read-up-to time this worker saw was ${from}; ` : ''}events ISP got after it are sent again: ` +
    'the delivered-key ledger was lost with the rest, so choose the time with care), then `full-sync` for lots ' +
    `and counts; or (b) \`isp-park-sync resume --all\` re-reads the vendor's whole history (every event is sent again). ` +
    `Times without an offset are read in the vendor zone ${zone}.`
  );
}

export class StateGuard {
  private readonly store: StateMarkerStore;
  private known: string | undefined;
  private verdict: StateVerdict | undefined;
  private evidenceWarned = false;

  constructor(
    private readonly rt: Pick<Runtime, 'config' | 'redis' | 'checkpoints' | 'progress'>,
    private readonly logger: Logger,
  ) {
    this.store = new StateMarkerStore(rt.redis, rt.config.redis.prefix);
  }

  /** The last verdict (undefined before the first check). */
  get last(): StateVerdict | undefined {
    return this.verdict;
  }

  /**
   * Checks the marker against what this worker knows, records a loss when it finds one, and
   * keeps the evidence file up to date. Cheap (one MGET) unless something changed.
   */
  async check(options: { keepEvidence?: boolean } = {}): Promise<StateVerdict> {
    const { marker, lost } = await this.store.read();
    const known = this.known ?? this.fileEvidence()?.markerId;
    let verdict: StateVerdict;
    if (lost) {
      verdict = this.lostVerdict(lost);
    } else if (!marker) {
      if (known) {
        verdict = this.lostVerdict(
          await this.store.declareLost(
            await this.loss(
              `the state marker (${known}) is gone from Redis: Redis lost this worker's data (a flush, a restart ` +
                'without persistence, or a failover to an empty replica); checkpoints, ledger and queued jobs went with it',
              known,
            ),
          ),
        );
      } else {
        verdict = { ok: true, marker: await this.store.createIfAbsent('first-run'), firstRun: true };
      }
    } else if (known && marker.id !== known && marker.origin !== 'resume') {
      verdict = this.lostVerdict(
        await this.store.declareLost(
          await this.loss(
            `the state marker changed from ${known} to ${marker.id} without a resume: Redis lost this worker's data ` +
              'and a worker without evidence of the earlier run started afresh on it',
            known,
          ),
        ),
      );
    } else {
      verdict = { ok: true, marker, ...(known && marker.id !== known ? { resumed: true } : {}) };
    }
    this.report(verdict);
    if (verdict.ok) {
      this.known = verdict.marker.id;
      if (options.keepEvidence !== false) await this.keepEvidence(verdict.marker.id);
    }
    this.verdict = verdict;
    return verdict;
  }

  private lostVerdict(loss: StateLoss): StateVerdict {
    return {
      ok: false,
      loss,
      message: `state lost: ${loss.reason}. ${lossAdvice(loss, this.rt.config.vendor.timeZone)}`,
    };
  }

  private async loss(reason: string, known: string): Promise<StateLoss> {
    const evidence = this.fileEvidence();
    return {
      at: Date.now(),
      reason,
      knownMarker: known,
      ...(evidence?.checkpoints ? { lastCheckpoints: evidence.checkpoints } : {}),
    };
  }

  private report(verdict: StateVerdict): void {
    const before = this.verdict;
    if (!verdict.ok && (before === undefined || before.ok))
      this.logger.error({ reason: verdict.loss.reason }, verdict.message);
    if (verdict.ok && verdict.firstRun)
      this.logger.info({ marker: verdict.marker.id }, 'state marker created (first run with this prefix)');
    if (verdict.ok && verdict.resumed)
      this.logger.warn(
        { marker: verdict.marker.id, resumedFrom: verdict.marker.resumedFrom },
        'state resumed by an operator',
      );
    if (verdict.ok && before && !before.ok)
      this.logger.warn({ marker: verdict.marker.id }, 'state is back: polling again');
  }

  private fileEvidence(): StateEvidence | undefined {
    const evidence = readEvidence(this.rt.config);
    return evidence?.prefix === this.rt.config.redis.prefix ? evidence : undefined;
  }

  private async keepEvidence(markerId: string): Promise<void> {
    const checkpoints: StateEvidence['checkpoints'] = {};
    for (const [stream, c] of Object.entries(await this.rt.checkpoints.all())) {
      const readUpTo = await this.rt.progress.caughtUp(stream);
      checkpoints[stream] = { time: c.time, id: c.id, ...(readUpTo !== undefined ? { readUpTo } : {}) };
    }
    try {
      writeEvidence(this.rt.config, {
        redis: redisIdentity(this.rt.config.redis.url),
        prefix: this.rt.config.redis.prefix,
        markerId,
        seenAt: Date.now(),
        checkpoints,
      });
    } catch (error) {
      if (!this.evidenceWarned)
        this.logger.warn(
          { dir: this.rt.config.redis.stateDir, err: (error as Error).message },
          'cannot keep the evidence of Redis state outside Redis: a loss of Redis data is then detected only while ' +
            'this worker runs; make STATE_DIR (redis.stateDir) a writable, persistent folder',
        );
      this.evidenceWarned = true;
    }
  }
}

/** Whether the state is lost, as any process sees it in Redis (status, readiness): no evidence needed. */
export async function recordedLoss(rt: Pick<Runtime, 'redis' | 'config'>): Promise<StateLoss | null> {
  return (await new StateMarkerStore(rt.redis, rt.config.redis.prefix).read()).lost;
}
