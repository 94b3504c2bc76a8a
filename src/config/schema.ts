/**
 * Long by design: every option of the product in one place, each with its default and its reason.
 *
 * The one typed Config: every option with its default beside it and a comment saying what it is
 * for. docs/configuration.md is written from this file. Secrets (ISP credentials,
 * database and Redis URLs with passwords, dashboard credentials) are not in this file's defaults
 * and may only come from the environment (see env.ts).
 */
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  BATCH_MAX_BYTES,
  BATCH_MAX_ITEMS,
  CAR_TYPE_CODES,
  COORDINATE_SYSTEMS,
  PAY_TYPE_CODES,
  PHOTO_MAX_BYTES,
  PHOTO_PREFIX,
} from '../isp-spec/index.js';
import { hashTag, isClusterUrl, parseRedisUrl } from './redis-url.js';

const httpUrl = z
  .string()
  .refine((value) => /^https?:\/\/[^\s/]+/.test(value), { message: 'must be an http(s) URL' });
const mysqlUrl = z
  .string()
  .refine((value) => /^mysql:\/\//.test(value), { message: 'must be a mysql:// URL' });
const redisUrl = z.string().superRefine((value, ctx) => {
  try {
    parseRedisUrl(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});
const ianaZone = z.string().refine((zone) => isValidZone(zone), {
  message: 'must be an IANA time zone such as Asia/Shanghai',
});
const positiveInt = z.number().int().positive();
const carTypeCode = z.enum(CAR_TYPE_CODES as [string, ...string[]]);
const payTypeCode = z.enum(PAY_TYPE_CODES as [string, ...string[]]);

function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const ispSchema = z
  .strictObject({
    /** Base URL of ISP (or of the simulator), e.g. https://isp.example.cn/api. Env: ISP_BASE_URL. */
    baseUrl: httpUrl,
    /**
     * Allow a plain `http://` base URL on a host other than loopback (credentials and tokens then
     * cross the network unencrypted). Off: such a URL is refused. Env: ISP_ALLOW_INSECURE_HTTP.
     */
    allowInsecureHttp: z.boolean().default(false),
    /** Per-request timeout, ms. */
    timeoutMs: positiveInt.default(15_000),
    /** Keep-alive connections to ISP. */
    connections: positiveInt.default(8),
    /** PEM file with extra CA certificates for ISP's https endpoint (verification is always on). */
    caFile: z.string().optional(),
    /** Send codes ("2") by default; `label` sends the label ("小型车") as the spec's examples do. */
    codesAs: z.enum(['code', 'label']).default('code'),
    /** Coordinate system ISP is sent; vendor coordinates are converted to it. */
    coordinateSystem: z.enum(COORDINATE_SYSTEMS).default('GCJ02'),
    batch: z
      .strictObject({
        /** Records per request (open point 11). */
        maxItems: positiveInt.default(BATCH_MAX_ITEMS),
        /** Bytes per request body. */
        maxBytes: positiveInt.default(BATCH_MAX_BYTES),
      })
      .prefault({}),
    auth: z
      .strictObject({
        /** Token path relative to baseUrl. */
        tokenPath: z.string().startsWith('/').default('/oauth/token'),
        /** OAuth grant type sent with the token request. */
        grantType: z.string().default('client_credentials'),
        /** `json` body (default) or `form` (application/x-www-form-urlencoded). */
        bodyFormat: z.enum(['json', 'form']).default('json'),
        /** Client credentials in the body (default) or as HTTP Basic. */
        clientAuth: z.enum(['body', 'basic']).default('body'),
        /** Extra constant fields for the token request (e.g. scope). Not for secrets. */
        extraFields: z.record(z.string(), z.string()).default({}),
        /** Refresh this many seconds before the token expires. */
        refreshAheadSeconds: z.number().int().nonnegative().default(60),
        /** From the environment only: ISP_CLIENT_ID, ISP_CLIENT_SECRET, ISP_USERNAME, ISP_PASSWORD. */
        clientId: z.string().optional(),
        clientSecret: z.string().optional(),
        username: z.string().optional(),
        password: z.string().optional(),
      })
      .prefault({}),
  })
  .superRefine((isp, ctx) => {
    if (isp.baseUrl.startsWith('http://') && !isLoopbackUrl(isp.baseUrl) && !isp.allowInsecureHttp) {
      ctx.addIssue({
        code: 'custom',
        path: ['baseUrl'],
        message:
          'plain http:// to a host other than loopback sends the ISP credentials unencrypted; use https://, ' +
          'or set isp.allowInsecureHttp: true (environment variable ISP_ALLOW_INSECURE_HTTP=true) to accept that',
      });
    }
  });

/** True for URLs on 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

export const photoSchema = z.strictObject({
  /** Limit of the whole photo string (prefix included), bytes (open point 5). */
  maxBytes: positiveInt.default(PHOTO_MAX_BYTES),
  /** Prefix put before the Base64 text. */
  prefix: z.string().default(PHOTO_PREFIX),
  /** Missing or unreadable photo: send '' and count it (default), or quarantine the row. */
  onMissing: z.enum(['empty', 'quarantine']).default('empty'),
  /**
   * Photos processed at once per process: one per core (each photo's decode and encode is one
   * libvips thread), so photo work fills the cores and no more. The sources of a process share
   * these slots (the largest value of any); a source's own value caps its share.
   */
  concurrency: positiveInt.default(() => availableParallelism()),
  /**
   * Photos read at once per process (files, URL downloads), and keep-alive connections kept per
   * photo host. Reading waits on a disk, a share or a camera server, not on our CPU, so it gets
   * more slots than the fitting; a loaded photo keeps its slot until it is fitted, so at most this
   * many inputs are in memory. Shared by the sources of a process as `concurrency` is.
   */
  fetchConcurrency: positiveInt.default(8),
  /** Root folder for photo file paths (stream photo source `file`). */
  fileRoot: z.string().optional(),
  /** Hosts photo URLs may point to (stream photo source `url`); empty = URLs refused. */
  urlAllowHosts: z.array(z.string()).default([]),
  urlTimeoutMs: positiveInt.default(5_000),
  /**
   * Longest wait for a photo file (stat, open and read together), ms. A hung network mount blocks
   * the file calls themselves; past this the photo counts as missing for now (retryable).
   */
  fileTimeoutMs: positiveInt.default(5_000),
  /** Largest photo we download or read, bytes. */
  maxInputBytes: positiveInt.default(20 * 1024 * 1024),
  /** Largest photo we decode, pixels (width × height); bigger ones are refused, not decoded. */
  maxInputPixels: positiveInt.default(50_000_000),
  /**
   * Longest side of a re-encoded photo, pixels. Bigger photos are scaled down to it first, smaller
   * ones only if needed to fit. 1280: a 2560×1440 camera halves, a 3840×2160 one is decoded at half
   * size by libjpeg (shrink-on-load), and a plate stays ~150-200 px wide; docs/photos.md says why.
   */
  maxDimension: positiveInt.default(1280),
});

/** How a vendor time column is stored. */
const timeFormat = z.enum(['datetime', 'epoch-s', 'epoch-ms']).default('datetime');

/** SQL expressions (column names, or expressions over `from`) keyed by canonical field name. */
const columns = <T extends Record<string, z.ZodTypeAny>>(shape: T) => z.strictObject(shape);
const expr = z.string().min(1);

const streamBase = {
  /** FROM clause: a table, or a join. Read-only: only SELECT is ever built from it. */
  from: expr,
  /** Extra WHERE condition, ANDed (e.g. `t.deleted = 0`). */
  where: z.string().optional(),
  /**
   * Idle polling (src/pipeline/poll-interval.ts): after this many ms of polls finding no new rows
   * (lot streams: no change), the stream is polled every `idlePollEveryMs` until a poll finds some.
   * 0: never idle.
   */
  idleAfterMs: z.number().int().nonnegative().default(60_000),
};

/**
 * Idle interval, ms: the first event after an idle spell waits up to this long. At most `pollEveryMs`
 * has no effect. 10 s for counts and events: a poll job is most of an idle source's cost, and at 5 s
 * 20 idle sources took 6–8% of a core against 3.3% at 10 s (`npm run bench -- --only fleet`).
 */
const idlePollEveryMs = (ms: number) => positiveInt.default(ms);

const photoSource = z.strictObject({
  /** SQL expression giving the photo (not read by the poller; fetched at push time by id). */
  column: expr,
  /** What the column holds. */
  source: z.enum(['blob', 'file', 'url', 'base64']),
});

/** A stream's photo; null (in a layer over a preset) means none, as if the key were absent. */
const optionalPhotoSource = photoSource
  .nullable()
  .optional()
  .transform((v) => v ?? undefined);

export const parksStreamSchema = z.strictObject({
  ...streamBase,
  columns: columns({
    parkCode: expr,
    parkName: expr.optional(),
    longitude: expr.optional(),
    latitude: expr.optional(),
    address: expr.optional(),
    /** Soft-delete flag: truthy means the lot is gone and is sent to DELETE /park/spot. */
    deleted: expr.optional(),
  }),
  /** Coordinate system the vendor stores. */
  coordinateSystem: z.enum(COORDINATE_SYSTEMS).default('GCJ02'),
  /**
   * A pair that lies in China only swapped (latitude in the longitude column) is sent swapped back,
   * with a warning. Off: the lot is sent without coordinates, with a warning (open point 4: never
   * swapped silently, and only when asked).
   */
  fixSwappedCoordinates: z.boolean().default(false),
  /**
   * A lot that vanished from the vendor's table stays registered at ISP this long before its DELETE,
   * so cars still leaving it are delivered; then the DELETE waits for every event of the lot to be.
   */
  deleteGraceSeconds: z.number().int().nonnegative().default(1_800),
  /**
   * The mass-deletion guard: a poll that would delete more than this share of the lots registered
   * at ISP (or that reads no lot at all) deletes nothing until an operator confirms
   * (`full-sync --confirm-deletes`): a wrong database, an emptied table or a lost grant looks the same.
   */
  maxDeleteShare: z.number().min(0).max(1).default(0.2),
  /** Poll interval, ms. */
  pollEveryMs: positiveInt.default(60_000),
  idlePollEveryMs: idlePollEveryMs(60_000),
});

export const spotNumsStreamSchema = z.strictObject({
  ...streamBase,
  columns: columns({
    parkCode: expr,
    total: expr,
    /** At least one of used/remain; the other is derived from total. */
    used: expr.optional(),
    remain: expr.optional(),
  }),
  /**
   * An overfull lot (more spaces used than it has) is sent with remain 0 and used as read, with a
   * warning. On: used is sent as total instead, for an ISP that wants used + remain = total.
   */
  clampOverfull: z.boolean().default(false),
  pollEveryMs: positiveInt.default(1_000),
  idlePollEveryMs: idlePollEveryMs(10_000),
});

const eventStreamBase = {
  ...streamBase,
  /** Keyset cursor: time column and a unique id column, both indexed together. */
  cursor: z.strictObject({ time: expr, id: expr }),
  timeFormat,
  pollEveryMs: positiveInt.default(1_000),
  idlePollEveryMs: idlePollEveryMs(10_000),
  /** Rows read per query. */
  pageSize: positiveInt.default(1_000),
  /**
   * `guarded`: the poll reads only rows older than the vendor's now minus `vendor.commitLagSeconds`
   * (a row committed late is still ahead of the cursor). `low-latency`: the poll reads rows as soon
   * as they are committed, and a sweep behind it re-reads the keys of the commit-lag window once
   * to catch rows committed late (src/pipeline/events/sweep.ts). docs/operations.md says which to choose.
   */
  mode: z.enum(['guarded', 'low-latency']).default('guarded'),
  /**
   * Low-latency mode, for a table whose rows get their AUTO_INCREMENT id (`cursor.id`) and their
   * cursor time when inserted (an entry or exit table; not a visit table's departures, stamped by
   * an UPDATE): an id the live poll skipped is looked up again at every poll, so a row committed
   * late goes a poll after its commit instead of when the sweep reaches it
   * (src/pipeline/events/id-gap-probe.ts). The live read then reads at once (no `liveLagMs`).
   */
  probeIdGaps: z.boolean().default(false),
};

export const entrancesStreamSchema = z.strictObject({
  ...eventStreamBase,
  columns: columns({
    parkCode: expr,
    plateNumber: expr,
    enterTime: expr,
    carType: expr.optional(),
    carLogo: expr.optional(),
  }),
  /** null: no photo (turns off a preset's photo column). */
  photo: optionalPhotoSource,
});

export const departuresStreamSchema = z.strictObject({
  ...eventStreamBase,
  columns: columns({
    parkCode: expr,
    plateNumber: expr,
    departTime: expr,
    /** The visit's entrance time: for use_time when absent, and to order after the entrance. */
    enterTime: expr.optional(),
    /**
     * The vendor id of the visit's entrance row (as `streams.entrances.cursor.id` reads it). In
     * low-latency mode a departure goes as soon as ISP has accepted that very entrance; by the id,
     * a departure whose plate the exit camera misread still finds it (by the plate it waits for the
     * entrances' sweep, a commit lag).
     */
    entranceId: expr.optional(),
    carType: expr.optional(),
    carLogo: expr.optional(),
    useTime: expr.optional(),
    payableFee: expr.optional(),
    paidFee: expr.optional(),
    payTime: expr.optional(),
    payType: expr.optional(),
  }),
  photo: optionalPhotoSource,
  /** Unit of the fee columns: integer fen (cents) or yuan (DECIMAL or float). */
  moneyUnit: z.enum(['fen', 'yuan']).default('fen'),
  /** Unit of use_time when the vendor stores it. */
  useTimeUnit: z.enum(['minutes', 'seconds']).default('minutes'),
});

const dictionary = <C extends z.ZodTypeAny>(code: C) =>
  z.strictObject({
    /** Vendor value (text, enum number, lookup name) -> ISP code. Matched after trimming. */
    map: z.record(z.string(), code).default({}),
    /** Code sent for an unknown value (with a counted warning naming the value). */
    default: code,
  });

/** A source's name: in keys, queue names, metrics labels and environment variable suffixes. */
export const sourceName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]{0,39}$/,
    'must be 1-40 lower-case letters, digits, "-" or "_", starting with a letter or digit',
  );

/** What a source's name becomes in environment variables: `north-2` → `NORTH_2` (`VENDOR_DB_URL__NORTH_2`). */
export function sourceEnvSuffix(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

const configObject = z.strictObject({
  /**
   * The vendor system this config reads. A config without `sources` is one source, named here; in a
   * config with `sources` each resolved source carries its own name (src/config/sources.ts).
   */
  source: z
    .strictObject({
      name: sourceName.default('default'),
      /**
       * Set by the loader for each source of a many-source config: the deployment's own Redis
       * prefix, where what the sources share lives (which source each park code belongs to).
       */
      fleetPrefix: z.string().optional(),
    })
    .prefault({}),
  isp: ispSchema,
  vendor: z.strictObject({
    /** mysql://user:password@host:3306/db. Env only: VENDOR_DB_URL. */
    url: mysqlUrl,
    /** Zone the vendor writes its DATETIMEs in (open point 7). */
    timeZone: ianaZone.default('Asia/Shanghai'),
    /** Connections we may hold on the vendor server. */
    connectionLimit: positiveInt.max(10).default(3),
    /** Every query is cut off after this, so a locked table cannot hang us. */
    queryTimeoutMs: positiveInt.default(10_000),
    /**
     * Commit-lag guard: read only rows stamped before the DB's now (to the millisecond) minus this.
     * Set it above the longest a vendor transaction stays open after stamping its row, plus 1 s
     * when the stamps are whole seconds (a row stamped 10:00:00 may have been written at 10:00:00.9).
     */
    commitLagSeconds: z.number().int().nonnegative().default(5),
    /**
     * Low-latency mode: the live poll reads rows stamped before the DB's now minus this, ms. With
     * whole-second stamps it must outlast the second (a row stamped 10:00:00 may commit at
     * 10:00:00.9) plus the moment a transaction takes to commit: a row committed after the live
     * read passed its second lands behind the cursor, and only the sweep, a commit lag later,
     * hands it on. Measured: read at once, two thirds of a visit table's departures (an UPDATE of
     * a row whose id has no order in time) went that way. Millisecond stamps can use ~250.
     */
    liveLagMs: z.number().int().nonnegative().default(1_250),
    /** Connection charset; GBK columns are converted by the server. */
    charset: z.string().default('utf8mb4'),
    /**
     * Session `time_zone` set on our connections (e.g. '+08:00'); unset keeps the server's.
     * Only TIMESTAMP columns depend on it (the server shows them in the session zone): set it to the
     * vendor zone's offset when the vendor's time columns are TIMESTAMP. DATETIMEs and the commit-lag
     * guard do not depend on it.
     */
    sessionTimeZone: z
      .string()
      .regex(/^([+-]\d{2}:\d{2}|SYSTEM|[A-Za-z_]+\/[A-Za-z_]+)$/, "must be an offset like '+08:00' or SYSTEM")
      .optional(),
  }),
  streams: z.strictObject({
    parks: parksStreamSchema,
    spotNums: spotNumsStreamSchema,
    entrances: entrancesStreamSchema,
    departures: departuresStreamSchema,
  }),
  dictionaries: z
    .strictObject({
      carType: dictionary(carTypeCode).prefault({ default: '2' }),
      payType: dictionary(payTypeCode).prefault({ default: '1' }),
    })
    .prefault({}),
  transform: z
    .strictObject({
      /** Event times further in the future than this are quarantined. */
      futureToleranceSeconds: z.number().int().nonnegative().default(300),
      /** use_time when derived from depart - enter (open point 8). */
      useTimeRounding: z.enum(['ceil', 'floor', 'round']).default('ceil'),
      /** Extra plate texts meaning "no plate" (besides 无牌车, _无_, 未知 and empty). */
      noPlateMarkers: z.array(z.string()).default([]),
      /** Car logo sent when the vendor has none (the field is required). */
      defaultCarLogo: z.string().default(''),
    })
    .prefault({}),
  photo: photoSchema.prefault({}),
  redis: z
    .strictObject({
      /**
       * Env: REDIS_URL. One server (`redis://`, `rediss://`) or a Redis Cluster named by any of its
       * nodes (`redis+cluster://h1:7000,h2:7001,h3:7002`, `rediss+cluster://` with TLS).
       */
      url: redisUrl.default('redis://127.0.0.1:6379'),
      /**
       * Queue and state key prefix; the {hash tag} keeps all keys in one Redis Cluster slot, so
       * BullMQ's and our multi-key scripts stay legal there (required on a cluster).
       */
      prefix: z
        .string()
        .regex(/^[^:]+$/, 'must not contain ":"')
        .default('{isp}'),
      /**
       * A folder outside Redis where the worker keeps evidence that it ran against this Redis and
       * prefix (the state marker's id and the last checkpoints it saw), so a Redis that lost its
       * data is recognised after a restart of the worker too. Env: STATE_DIR. Keep it on a
       * persistent volume; when it cannot be written the worker says so and detects a loss only
       * while it runs.
       */
      stateDir: z.string().default(() => join(homedir(), '.local', 'state', 'isp-park-sync')),
    })
    .superRefine((redis, ctx) => {
      // On one server any prefix will do; on a cluster a prefix without a hash tag spreads the
      // keys over slots, and the first multi-key script would fail with CROSSSLOT mid-delivery.
      if (isClusterUrl(redis.url) && hashTag(redis.prefix) === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['prefix'],
          message:
            `"${redis.prefix}" has no {hash tag}, which a Redis Cluster needs to keep every queue and state key ` +
            'in one slot: wrap it in braces, e.g. {isp}',
        });
    })
    .prefault({}),
  pipeline: z
    .strictObject({
      /** A poller stops reading while its push queue holds more than this many jobs. */
      maxQueueDepth: positiveInt.default(200),
      /** Days a delivered natural key is remembered. */
      ledgerTtlDays: positiveInt.default(7),
      /** How long a retryable push keeps retrying, ms (default a day). */
      retryForMs: positiveInt.default(24 * 3600 * 1000),
      /** First backoff delay, ms; doubles with jitter, capped at maxBackoffMs. */
      backoffMs: positiveInt.default(1_000),
      maxBackoffMs: positiveInt.default(5 * 60_000),
      /** Attempts for a batch ISP rejects with code 1 before it is split (each record alone). */
      rejectedAttempts: positiveInt.default(1),
      /**
       * Event push jobs processed at once per process and stream, and batches a direct delivery has
       * in flight per stream (the most a SIGKILL can leave delivered but unrecorded). 8, the ISP
       * connection pool's size: with 4, lanes sat idle while the worker had CPU to spare (three
       * alternating runs of the no-photo drain: 66-69k events/s against 69-72k with 8).
       */
      pushConcurrency: positiveInt.default(8),
      /**
       * A process that polls and pushes delivers a page itself while the push queue is empty,
       * instead of carrying it through Redis (no photos only); a full page goes to the queue while
       * other processes push from it. Off: every page goes through the queue.
       */
      directDelivery: z.boolean().default(true),
      /** Nightly full sync (spec §3). */
      fullSync: z
        .strictObject({ cron: z.string().default('0 0 1 * * *'), tz: ianaZone.default('Asia/Shanghai') })
        .prefault({}),
      /** Finished jobs kept for the dashboard. */
      // A completed push job keeps its records (~30 KB for 100): 100 per queue is enough to look at
      // on the dashboard and keeps Redis small while a backlog drains.
      keepCompleted: z
        .strictObject({ ageSeconds: positiveInt.default(3600), count: positiveInt.default(100) })
        .prefault({}),
      /**
       * Failed push jobs are undelivered events: they are never expired by age or count, only
       * replayed or discarded on purpose (`replay --discard`, audited). This key is refused so that
       * an old config that bounded them says so instead of silently meaning nothing.
       */
      keepFailed: z
        .unknown()
        .optional()
        .refine((value) => value === undefined, {
          message:
            'failed jobs are no longer expired (they are undelivered events): remove pipeline.keepFailed; ' +
            'use `replay` or `replay --discard --reason …` instead',
        }),
      /** `status` and /readyz warn when a push queue's failed set holds more jobs than this. */
      failedWarnAt: positiveInt.default(100),
      /**
       * How often the worker checks its Redis state (the state marker, job schedulers, global
       * concurrency of the poll queues), ms; also done on every Redis reconnect.
       */
      stateCheckEveryMs: positiveInt.default(60_000),
      /**
       * A stream that has not polled successfully for this many of its poll intervals (and at
       * least `pollStaleMinMs`) fails /readyz.
       */
      pollStaleIntervals: positiveInt.default(5),
      pollStaleMinMs: positiveInt.default(30_000),
      /** Quarantined rows kept (newest). */
      quarantineMax: positiveInt.default(10_000),
    })
    .prefault({}),
  reconcile: z
    .strictObject({
      /**
       * Days the records a reconciliation needs are kept: the delivered-key ledger lives
       * max(pipeline.ledgerTtlDays, retainDays + 1) days (the extra day covers the vendor zone's
       * offset from UTC, the ledger's day), and each nightly result as long. Days older than this
       * cannot be reconciled. Measured cost: docs/operations.md#reconciliation. The delivery
       * figures per lot and day (the daily report's latency, photos missing and replayed; the
       * status page's 14-day chart) are kept as long after their day.
       */
      retainDays: positiveInt.default(35),
      /** The nightly reconcile of yesterday also enqueues what it found missing (as `reconcile --repair`). */
      nightlyRepair: z.boolean().default(false),
      /** Days of nightly results the status page shows (lot × day grid). */
      pageDays: positiveInt.max(62).default(14),
    })
    .prefault({}),
  web: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Dashboard without retry/clean/promote. */
      readOnly: z.boolean().default(false),
      /** From the environment only: WEB_USER + WEB_PASSWORD (HTTP Basic) or WEB_TOKEN (bearer). */
      user: z.string().optional(),
      password: z.string().optional(),
      token: z.string().optional(),
    })
    .prefault({}),
  sim: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8090),
      /** Credentials the simulator accepts; env SIM_CLIENT_ID / SIM_CLIENT_SECRET. */
      clientId: z.string().default('demo-client'),
      clientSecret: z.string().optional(),
      tokenTtlSeconds: positiveInt.default(3600),
      /** Append every accepted record to this JSONL file. */
      jsonlFile: z.string().optional(),
      /** `full` keeps every record; `light` keeps only natural keys and receipt times (benchmarks). */
      storage: z.enum(['full', 'light']).default('full'),
    })
    .prefault({}),
  alerts: z
    .strictObject({
      /**
       * Lot health alerts (docs/operations.md, "Lot health alerts"): evaluated by one worker of the
       * scheduler role at a time, shown on the status page and in metrics, sent to the webhook.
       * Off: nothing is evaluated and nothing sent.
       */
      enabled: z.boolean().default(true),
      /** How often the alerts are evaluated, ms. */
      evaluateEveryMs: positiveInt.default(30_000),
      quietLot: z
        .strictObject({
          /**
           * A lot is quiet when it has had no event for this many times the longest silence it
           * usually has when one starts at that hour of the week (learned from its own deliveries).
           */
          factor: z.number().positive().default(4),
          /** ... and for at least this long (s): short silences never alert, however regular the lot. */
          minSilenceSeconds: positiveInt.default(1_800),
        })
        .prefault({}),
      staleCount: z
        .strictObject({
          /** A lot's count that has not changed for this long (s) while its events flow alerts. */
          afterSeconds: positiveInt.default(3 * 3_600),
          /** ... once at least this many of its events were delivered since the count last changed. */
          minEvents: positiveInt.default(20),
        })
        .prefault({}),
      undelivered: z
        .strictObject({
          /**
           * A lot whose events were quarantined or refused by ISP at least this share of the time,
           * in the current and the previous clock hour, alerts ...
           */
          share: z.number().gt(0).max(1).default(0.5),
          /** ... once it had at least this many events in that time. */
          minEvents: positiveInt.default(10),
        })
        .prefault({}),
      /** The vendor database's clock more than this far (s) from this host's alerts. */
      maxVendorClockSkewSeconds: positiveInt.default(120),
      /**
       * An event stream that has read the vendor only up to more than this long ago (s) alerts: the
       * commit-lag guard, the departure gate or backpressure holds it back.
       */
      maxReadLagSeconds: positiveInt.default(600),
      deliveryLatency: z
        .strictObject({
          /**
           * An event stream whose events took longer than this (s) from their event time to ISP's
           * acceptance, or whose oldest queued event is older, alerts.
           */
          maxSeconds: positiveInt.default(600),
          /** Live deliveries looked at, the last this many seconds. */
          windowSeconds: positiveInt.default(300),
        })
        .prefault({}),
      rateLimit: z
        .strictObject({
          /**
           * Webhook messages per window; when more are due, the last one of the window carries all
           * of them (nothing is dropped) and the rest wait for the next window.
           */
          maxMessages: positiveInt.default(10),
          windowSeconds: positiveInt.default(600),
        })
        .prefault({}),
      webhook: z
        .strictObject({
          /**
           * Where notifications are POSTed; unset: none are sent. Holds the robot's token, so it is a
           * secret: env ALERTS_WEBHOOK_URL (or ALERTS_WEBHOOK_URL_FILE) only.
           */
          url: httpUrl.optional(),
          /**
           * Body shape: `generic` JSON ({event, alert, lot, stream, reason, ...}); `wecom` and
           * `dingtalk`: their group robots' message (`{"msgtype":"text","text":{"content":…}}`).
           */
          preset: z.enum(['generic', 'wecom', 'dingtalk']).default('generic'),
          /** `wecom`/`dingtalk`: a `text` or a `markdown` message. */
          format: z.enum(['text', 'markdown']).default('text'),
          /** DingTalk's signing secret (robot security setting "加签"). Env ALERTS_WEBHOOK_SECRET only. */
          secret: z.string().optional(),
          /** Per request, ms. */
          timeoutMs: positiveInt.default(10_000),
          /** A notification the webhook keeps refusing is given up (and logged) after this long, s. */
          giveUpAfterSeconds: positiveInt.default(3_600),
        })
        .prefault({}),
    })
    .prefault({}),
  log: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
    .prefault({}),
  memory: z
    .strictObject({
      /**
       * How far V8 lets the JS heap grow past what survived the last full collection before it
       * collects again, percent (`start` and `demo`). Left to V8 (0), the factor goes up to 300%
       * on a machine with much memory while a backlog is read at full speed: draining 1M events
       * then peaked at ~300 MB resident, against ~205 MB at 100 (same CPU) and ~185 MB at 50
       * (~8% more CPU). Applied with v8.setFlagsFromString (`--heap-growing-percent`).
       */
      heapGrowthPercent: z.number().int().min(0).max(1000).default(100),
    })
    .prefault({}),
});

/** The event streams, for rules over both. */
const EVENT_STREAM_KEYS = ['entrances', 'departures'] as const;

/** Rules across keys (the low-latency settings), checked once every key parses. */
function lowLatencyRules(config: z.infer<typeof configObject>, ctx: z.RefinementCtx): void {
  for (const stream of EVENT_STREAM_KEYS) {
    if (config.streams[stream].probeIdGaps && config.streams[stream].mode !== 'low-latency')
      ctx.addIssue({
        code: 'custom',
        path: ['streams', stream, 'probeIdGaps'],
        message: `probes the gaps a low-latency read leaves: set streams.${stream}.mode: low-latency, or remove it`,
      });
  }
  const { liveLagMs, commitLagSeconds } = config.vendor;
  const lowLatency = EVENT_STREAM_KEYS.filter((s) => config.streams[s].mode === 'low-latency');
  if (lowLatency.length > 0 && liveLagMs >= commitLagSeconds * 1000) {
    ctx.addIssue({
      code: 'custom',
      path: ['vendor', 'liveLagMs'],
      message:
        `must be below vendor.commitLagSeconds (${commitLagSeconds} s) while ${lowLatency.join(' and ')} ` +
        'run in low-latency mode: the sweep behind the live read is what catches late rows',
    });
  }
}

export const configSchema = configObject.superRefine(lowLatencyRules);

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type StreamName = keyof Config['streams'];
export const STREAM_NAMES = ['parks', 'spotNums', 'entrances', 'departures'] as const satisfies StreamName[];
export type EventStreamName = 'entrances' | 'departures';
