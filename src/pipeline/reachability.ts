/**
 * What the operator sees when Redis or the vendor database cannot be reached: one line per attempt
 * naming what was tried (host, port, database or db number, user: never a password) and what to
 * check, attempts spaced by a growing delay, and one line when the service answers again. Client
 * libraries report the same outage many times over (every BullMQ queue and worker has its own
 * connections, each emitting an error per reconnect): `OutageLog` folds those into one line per
 * retry interval, so an outage is a few calm lines instead of a flood of stack traces.
 *
 * Owns no connection of the pipeline; `waitForRedis` and `probeRedis` open a short-lived client
 * of their own and always close it.
 */
import { describeRedisTarget, parseRedisUrl } from '../config/index.js';
import type { Logger } from '../log.js';
import { createRedisClient } from './redis-options.js';

export type Service = 'redis' | 'vendor';

/** Delays between attempts: 1 s, doubling, at most 30 s. */
export const RETRY_BASE_MS = 1_000;
export const RETRY_MAX_MS = 30_000;

export function retryDelay(attempt: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1));
}

/**
 * `127.0.0.1:6379 (db 0)` (and `user x` when the URL names one), or `cluster h1:7000, h2:7001`;
 * never the password.
 */
export function redisTarget(url: string): string {
  try {
    return describeRedisTarget(parseRedisUrl(url));
  } catch {
    return '(REDIS_URL is not a valid URL)';
  }
}

/** `127.0.0.1:3306 (database parking, user readonly)`; never the password. */
export function vendorTarget(url: string): string {
  try {
    const u = new URL(url);
    const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || '(none)';
    const user = u.username ? decodeURIComponent(u.username) : '(none)';
    return `${u.hostname}:${u.port || 3306} (database ${database}, user ${user})`;
  } catch {
    return '(VENDOR_DB_URL is not a valid URL)';
  }
}

interface ErrorLike {
  code?: string;
  errno?: number | string;
  message?: string;
  name?: string;
  /** ioredis Cluster: what the last node said when no node gave the slot map. */
  lastNodeError?: unknown;
}

/** The error that says why: a cluster client's "Failed to refresh slots cache" hides its node's. */
function rootCause(error: unknown): ErrorLike {
  const e = (error ?? {}) as ErrorLike;
  return e.lastNodeError ? (e.lastNodeError as ErrorLike) : e;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** True when an error means "cannot talk to the server", as opposed to a command's own failure. */
export function isConnectionError(error: unknown): boolean {
  const e = (error ?? {}) as ErrorLike;
  if (e.code && CONNECTION_CODES.has(e.code)) return true;
  const text = e.message ?? '';
  return (
    e.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|connect ETIMEDOUT|max retries per request|getaddrinfo|ECONNREFUSED|ECONNRESET/i.test(
      text,
    ) ||
    // A Redis Cluster without a usable node, or without a master for a slot (a failover under way).
    /Failed to refresh slots cache|None of startup nodes is available|Cluster isn't ready|CLUSTERDOWN/.test(
      text,
    )
  );
}

/** The short reason, without a stack: `connect ECONNREFUSED 127.0.0.1:6390`. */
function reasonOf(error: unknown): string {
  const e = rootCause(error);
  const first = (e.message ?? String(error)).split('\n')[0] ?? '';
  return first.length > 200 ? `${first.slice(0, 200)}…` : first;
}

/** What to check, by the error's kind. */
export function adviceFor(service: Service, error: unknown): string {
  const e = rootCause(error);
  const text = `${e.code ?? ''} ${e.message ?? ''}`;
  const urlVar = service === 'redis' ? 'REDIS_URL' : 'VENDOR_DB_URL';
  const server = service === 'redis' ? 'Redis' : 'the MySQL/MariaDB server';
  if (/ENOTFOUND|EAI_AGAIN|getaddrinfo/.test(text))
    return `the host name does not resolve: check the host in ${urlVar} and DNS`;
  if (/ECONNREFUSED/.test(text))
    return `nothing listens there: start ${server} or correct the host and port in ${urlVar}`;
  if (/ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/.test(text))
    return `no answer: check that ${server} runs there and that no firewall drops the port`;
  if (/NOAUTH|WRONGPASS|invalid password|ER_ACCESS_DENIED|Access denied/i.test(text))
    return `the server refused the credentials: check the user and password in ${urlVar}`;
  if (/ER_BAD_DB_ERROR|Unknown database/i.test(text))
    return `the database does not exist: check the database name in ${urlVar}`;
  return `check that ${server} runs there and that ${urlVar} is right`;
}

const SERVICE_NAME: Record<Service, string> = { redis: 'Redis', vendor: 'vendor database' };

/**
 * Folds repeated connection errors of one service into one warning per retry interval, and says
 * when the service is back. Errors that are not about the connection are logged in full, once
 * each (they are a bug or a server answer, not an outage).
 */
export class OutageLog {
  private readonly state = new Map<
    Service,
    {
      since: number;
      /** Attempts of our own (polls) or errors reported by clients. */
      attempts: number;
      /** Lines said about this outage: the interval to the next grows with them. */
      said: number;
      nextLogAt: number;
      probing: boolean;
      nextAttemptAt: number;
    }
  >();

  constructor(
    private readonly logger: Logger,
    private readonly targets: Record<Service, string>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A client reported an error: one calm line per retry interval when it is a connection error. */
  clientError(
    service: Service,
    error: unknown,
    context: Record<string, unknown> = {},
    otherwise = `${SERVICE_NAME[service]} client error`,
  ): void {
    if (!isConnectionError(error)) {
      this.logger.error({ err: error, ...context }, otherwise);
      return;
    }
    const now = this.now();
    const s = this.state.get(service) ?? this.fresh(now);
    this.state.set(service, s);
    s.attempts++;
    if (now < s.nextLogAt) return;
    s.said++;
    const delay = retryDelay(s.said);
    s.nextLogAt = now + delay;
    this.logger.warn(
      { service, target: this.targets[service], downForSeconds: Math.round((now - s.since) / 1000) },
      `${SERVICE_NAME[service]} at ${this.targets[service]} unreachable: ${reasonOf(error)}; ` +
        `${adviceFor(service, error)}; clients keep reconnecting`,
    );
  }

  /** The service answered: ends an outage with one line (nothing when there was none). */
  recovered(service: Service): void {
    const s = this.state.get(service);
    if (!s) return;
    this.state.delete(service);
    this.logger.info(
      { service, target: this.targets[service], downForSeconds: Math.round((this.now() - s.since) / 1000) },
      `${SERVICE_NAME[service]} at ${this.targets[service]} reachable again`,
    );
  }

  /**
   * Gate for callers that try the service themselves (the polls): true for one caller at a time
   * once the retry delay has passed, so an outage costs one attempt per interval, not one per
   * stream per poll. The caller must then report `attemptFailed` or `recovered`.
   */
  mayAttempt(service: Service): boolean {
    const s = this.state.get(service);
    if (!s) return true;
    if (s.probing || this.now() < s.nextAttemptAt) return false;
    s.probing = true;
    return true;
  }

  /** An attempt of the caller's own failed: one line, and the next attempt after the backoff. */
  attemptFailed(service: Service, error: unknown): void {
    const now = this.now();
    const known = this.state.get(service);
    // An attempt begun before the outage was known (the polls of all streams at once): already said.
    if (known && !known.probing) return;
    const s = known ?? this.fresh(now);
    this.state.set(service, s);
    s.attempts++;
    s.said++;
    s.probing = false;
    const delay = retryDelay(s.attempts);
    s.nextAttemptAt = now + delay;
    s.nextLogAt = now + delay;
    this.logger.warn(
      { service, target: this.targets[service], attempt: s.attempts },
      `${SERVICE_NAME[service]} at ${this.targets[service]} unreachable: ${reasonOf(error)}; ` +
        `${adviceFor(service, error)}; attempt ${s.attempts}, next in ${Math.round(delay / 1000)} s`,
    );
  }

  /** An attempt ended without telling whether the service is up (another failure): next caller tries. */
  release(service: Service): void {
    const s = this.state.get(service);
    if (s) s.probing = false;
  }

  private fresh(now: number) {
    return { since: now, attempts: 0, said: 0, nextLogAt: now, probing: false, nextAttemptAt: now };
  }

  /** Whether the service is currently known to be down. */
  isDown(service: Service): boolean {
    return this.state.has(service);
  }
}

/** Raised when a one-shot command cannot reach a service it needs. */
export class ServiceUnreachableError extends Error {
  override readonly name = 'ServiceUnreachableError';
  constructor(
    readonly service: Service,
    readonly target: string,
    readonly reason: string,
    readonly advice: string,
  ) {
    super(`${SERVICE_NAME[service]} at ${target} unreachable: ${reason}; ${advice}`);
  }
}

/** One attempt to reach Redis (connect and PING) with a client of its own; throws a calm error. */
export async function probeRedis(url: string, timeoutMs = 5_000): Promise<void> {
  let lastError: unknown;
  const redis = createRedisClient(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The socket's own error (ECONNREFUSED, ...) comes as an event; connect() then only rejects with
  // "Connection is closed". Listening also keeps ioredis from printing it.
  redis.on('error', (error) => {
    lastError = error;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    const cause = lastError ?? error;
    throw new ServiceUnreachableError('redis', redisTarget(url), reasonOf(cause), adviceFor('redis', cause));
  } finally {
    redis.disconnect();
  }
}

/**
 * Tries Redis until it answers, one warning per attempt with a growing delay between attempts
 * (a worker started before Redis, or during its restart, waits instead of crashing).
 */
export async function waitForRedis(url: string, logger: Logger, sleep = defaultSleep): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await probeRedis(url);
      if (attempt > 1) logger.info({ target: redisTarget(url) }, `Redis at ${redisTarget(url)} reachable`);
      return;
    } catch (error) {
      if (!(error instanceof ServiceUnreachableError)) throw error;
      const delay = retryDelay(attempt);
      logger.warn(
        { service: 'redis', target: error.target, attempt },
        `${error.message}; attempt ${attempt}, next in ${Math.round(delay / 1000)} s`,
      );
      await sleep(delay);
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
