/**
 * Builds the long-lived parts of a process from the Config: Redis clients, queues, the vendor
 * pool, the ISP client, the transform context and our state stores. Commands take what they need
 * and close it all with `close()`. Nothing here reads or writes data by itself.
 */
import type { RedisOptions } from 'ioredis';
import type { Agent } from 'undici';
import { type Config, parseRedisUrl, type StreamName } from '../config/index.js';
import { IspClient } from '../isp/index.js';
import { createLogger, type Logger } from '../log.js';
import { ActivityStore } from '../state/activity.js';
import { CheckpointStore } from '../state/checkpoints.js';
import { DeliveryDayStore } from '../state/delivery-days.js';
import { IdGaps } from '../state/id-gaps.js';
import { DeliveredLedger } from '../state/ledger.js';
import { LotChangeStore } from '../state/lot-changes.js';
import { LotHealthStore } from '../state/lot-health.js';
import { EntranceBlockStore, LotHoldStore } from '../state/lot-holds.js';
import { ParkClaimStore } from '../state/park-claims.js';
import { QuarantineStore } from '../state/quarantine.js';
import { RecentKeys } from '../state/recent-keys.js';
import { StreamProgress } from '../state/stream-progress.js';
import { TokenRecordStore } from '../state/token-record.js';
import { createTransformContext, type TransformContext } from '../transform/context.js';
import {
  createPhotoDispatcher,
  createPhotoLimiter,
  createSharedLimiter,
  PhotoBuffers,
  type SharedLimiter,
} from '../transform/photo/index.js';
import { createVendorPool, type VendorPool } from '../vendor-db/pool.js';
import { createQueues, createRedis, type Queues } from './queues.js';
import { OutageLog, redisTarget, vendorTarget } from './reachability.js';
import type { RedisClient } from './redis-options.js';

export interface Runtime {
  config: Config;
  logger: Logger;
  /** One server's client, or a Redis Cluster's. */
  redis: RedisClient;
  queues: Queues;
  vendor: VendorPool;
  isp: IspClient;
  transform: TransformContext;
  ledgers: { entrances: DeliveredLedger; departures: DeliveredLedger };
  /** Low-latency mode: the rows each live poll has read (vendor keys), for the sweep behind it. */
  readMarks: { entrances: RecentKeys; departures: RecentKeys };
  /** Low-latency followers: natural keys ISP accepted lately, per followed stream (departure gate). */
  acceptedKeys: { entrances: RecentKeys; departures: RecentKeys };
  /** Low-latency streams with `probeIdGaps`: the ids the live poll skipped. */
  idGaps: { entrances: IdGaps; departures: IdGaps };
  checkpoints: CheckpointStore;
  progress: StreamProgress;
  lotChanges: LotChangeStore;
  holds: LotHoldStore;
  entranceBlocks: EntranceBlockStore;
  activity: ActivityStore;
  /** Per lot and day: delivered, photos missing, replayed, latency (the daily report, the 14-day chart). */
  deliveryDays: DeliveryDayStore;
  /** What the lot health alerts learn, and the alerts active (src/pipeline/health/). */
  health: LotHealthStore;
  /** The workers' ISP token state, as recorded in Redis. */
  tokenRecord: TokenRecordStore;
  quarantine: QuarantineStore;
  /** Of a source in a many-source config: which source each park code belongs to (fleet-wide). */
  claims?: ParkClaimStore;
  /** Photo fitting (decode, encode): photo.concurrency at once, the process's slots (`photoSlots`). */
  photoLimiter: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Photo reads (files, URLs) with their fitting: photo.fetchConcurrency at once, the process's slots. */
  photoLoads: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Keep-alive connections to photo URL hosts (made on first use). */
  readonly photoDispatcher: Agent;
  /**
   * Pushes of streams with photos: isp.connections at once per process. A batch of photos is up to
   * 8 MB; more jobs than connections would only hold theirs in memory waiting for a connection.
   */
  photoPushes: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Memory photos are read and Base64-encoded into, given back once no longer needed. */
  photoBuffers: PhotoBuffers;
  /** Folds Redis and vendor database outages into one line per retry (reachability.ts). */
  outages: OutageLog;
  /**
   * The vendor database's clock against this host's, measured at each event poll: the transforms'
   * future-time checks use the vendor's time, so a vendor clock minutes fast quarantines nothing.
   */
  vendorClock: { skewMs: number; measuredAt: number | null };
  close(): Promise<void>;
}

/**
 * How long the low-latency mode's recent keys live after their last write: far longer than the
 * sweep trails the live poll (the commit lag and a poll), so that a sweep slowed by a backlog
 * still finds them. Expired, the sweep fetches those rows again and the ledger skips what ISP has.
 */
export const RECENT_KEYS_TTL_SECONDS = 900;

/**
 * Free photo memory kept for reuse: a few batches' worth (a batch of photos under the limit is up
 * to 8 MB of Base64, ~6 MB of JPEG), so the photos of one answered batch are read into by the next.
 */
const PHOTO_BUFFERS_KEEP_BYTES = 32 * 1024 * 1024;

export interface RuntimeOptions {
  logger?: Logger;
  /** Clock for the transforms (tests). */
  now?: () => number;
  /** Options of the state Redis client (a read-only command fails fast instead of retrying). */
  redis?: RedisOptions;
  /** A process that only reads (status): the queue objects write nothing when they are made. */
  readOnly?: boolean;
  /** Statements each vendor session runs first (tests: a vendor clock set ahead). */
  vendorInitSql?: string[];
  /**
   * The process's photo slots, shared by the sources it runs (jobs/fleet.ts): each source takes its
   * turn for them, within its own photo.concurrency and photo.fetchConcurrency. Absent: slots of
   * this runtime's own.
   */
  photoSlots?: PhotoSlots;
}

/** Photo work of a process: fitting (CPU and a decoded frame each) and reading (an input each). */
export interface PhotoSlots {
  fitting: SharedLimiter;
  loads: SharedLimiter;
}

/** Slots for the photo work of a process: as many as the largest setting of its sources asks. */
export function createPhotoSlots(configs: readonly Config[]): PhotoSlots {
  const size = photoSlotSizes(configs);
  return { fitting: createSharedLimiter(size.fitting), loads: createSharedLimiter(size.loads) };
}

/**
 * Sizes a process's photo slots for the sources it runs now (sources added, changed or removed
 * without a restart). Returns whether the size changed.
 */
export function resizePhotoSlots(slots: PhotoSlots, configs: readonly Config[]): boolean {
  const size = photoSlotSizes(configs);
  if (slots.fitting.size === size.fitting && slots.loads.size === size.loads) return false;
  slots.fitting.resize(size.fitting);
  slots.loads.resize(size.loads);
  return true;
}

function photoSlotSizes(configs: readonly Config[]): { fitting: number; loads: number } {
  const most = (of: (c: Config) => number) => Math.max(1, ...configs.map(of));
  return { fitting: most((c) => c.photo.concurrency), loads: most((c) => c.photo.fetchConcurrency) };
}

export function createRuntime(config: Config, options: RuntimeOptions = {}): Runtime {
  const logger = options.logger ?? createLogger(config.log.level);
  const outages = new OutageLog(logger, {
    redis: redisTarget(config.redis.url),
    vendor: vendorTarget(config.vendor.url),
  });
  // First: a vendor URL the driver refuses (an unknown SSL profile) throws here, before any client
  // is open that would keep the process alive (a command over several sources goes on to the next).
  const vendor = createVendorPool(config.vendor, {
    source: config.source.name,
    ...(options.vendorInitSql ? { initSql: options.vendorInitSql } : {}),
  });
  // Auto-pipelining: commands issued in one tick leave in one socket write (a poll's bookkeeping,
  // a page's ledger checks), which is most of what an idle source costs. Not on a Redis Cluster:
  // there ioredis answers a whole batch's MOVED at once, and a failover or resharding fails
  // commands that would have been redirected one by one (github.com/redis/ioredis/issues/2075).
  const redis = createRedis(config, {
    enableAutoPipelining: !parseRedisUrl(config.redis.url).cluster,
    ...options.redis,
  });
  // Every client reports an outage through the one OutageLog: calm lines instead of stacks.
  redis.on('error', (error) => outages.clientError('redis', error));
  redis.on('ready', () => outages.recovered('redis'));
  const prefix = config.redis.prefix;
  const queues = createQueues(config, undefined, {
    readOnly: options.readOnly === true,
    onError: (error, queue) => outages.clientError('redis', error, { queue }),
  });
  const vendorClock: Runtime['vendorClock'] = { skewMs: 0, measuredAt: null };
  const hostNow = options.now ?? Date.now;
  // Made on first use: commands that never talk to ISP (dry-run, status) need no ISP credentials.
  let isp: IspClient | undefined;
  let photoDispatcher: Agent | undefined;
  const ttl = ledgerDays(config);
  const tokenRecord = new TokenRecordStore(redis, prefix);
  let closed = false;
  return {
    config,
    logger,
    redis,
    queues,
    vendor,
    get isp() {
      isp ??= new IspClient({
        isp: config.isp,
        source: config.source.name,
        logger,
        // What the token manager did, for `status` in other processes (never the token).
        onTokenChange: (change) => void tokenRecord.record(change).catch(() => undefined),
      });
      return isp;
    },
    tokenRecord,
    transform: createTransformContext(config, { now: () => hostNow() + vendorClock.skewMs }),
    vendorClock,
    ledgers: {
      entrances: new DeliveredLedger(redis, prefix, 'entrances', ttl),
      departures: new DeliveredLedger(redis, prefix, 'departures', ttl),
    },
    readMarks: {
      entrances: new RecentKeys(redis, prefix, 'read:entrances', RECENT_KEYS_TTL_SECONDS),
      departures: new RecentKeys(redis, prefix, 'read:departures', RECENT_KEYS_TTL_SECONDS),
    },
    acceptedKeys: {
      entrances: new RecentKeys(redis, prefix, 'accepted:entrances', RECENT_KEYS_TTL_SECONDS),
      departures: new RecentKeys(redis, prefix, 'accepted:departures', RECENT_KEYS_TTL_SECONDS),
    },
    idGaps: {
      entrances: new IdGaps(redis, prefix, 'entrances'),
      departures: new IdGaps(redis, prefix, 'departures'),
    },
    checkpoints: new CheckpointStore(redis, prefix),
    progress: new StreamProgress(redis, prefix),
    lotChanges: new LotChangeStore(redis, prefix),
    holds: new LotHoldStore(redis, prefix),
    entranceBlocks: new EntranceBlockStore(redis, prefix),
    activity: new ActivityStore(redis, prefix),
    deliveryDays: new DeliveryDayStore(redis, prefix, config.vendor.timeZone, config.reconcile.retainDays),
    health: new LotHealthStore(redis, prefix),
    quarantine: new QuarantineStore(redis, prefix, config.pipeline.quarantineMax, config.source.name),
    ...(config.source.fleetPrefix ? { claims: new ParkClaimStore(redis, config.source.fleetPrefix) } : {}),
    photoLimiter: (options.photoSlots?.fitting ?? createSharedLimiter(config.photo.concurrency)).lane(
      config.source.name,
      config.photo.concurrency,
    ),
    photoLoads: (options.photoSlots?.loads ?? createSharedLimiter(config.photo.fetchConcurrency)).lane(
      config.source.name,
      config.photo.fetchConcurrency,
    ),
    photoPushes: createPhotoLimiter(config.isp.connections),
    // Photos under the limit as read, and records with their Base64 (photo.maxBytes and the payload).
    photoBuffers: new PhotoBuffers(config.photo.maxBytes + 64 * 1024, PHOTO_BUFFERS_KEEP_BYTES),
    get photoDispatcher() {
      photoDispatcher ??= createPhotoDispatcher(config.photo);
      return photoDispatcher;
    },
    outages,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([queues.close(), vendor.close(), isp?.close(), photoDispatcher?.close()]);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export type { StreamName };

/**
 * Days a delivered key is remembered: `pipeline.ledgerTtlDays`, longer when reconciliation keeps
 * its days longer (one day more: a vendor day straddles two UTC days, the ledger's day).
 */
export function ledgerDays(config: Config): number {
  return Math.max(config.pipeline.ledgerTtlDays, config.reconcile.retainDays + 1);
}
