/**
 * The operator web server, on one port: status page `/`, `/api/status`, `/metrics`, `/healthz`,
 * `/readyz` and the queue dashboard at `/admin/queues`, over every source the process runs. Owns
 * the HTTP edge: authentication, the same-origin check of writes, read-only mode, security
 * headers, and the last scrub of secrets (every source's) from every body. It computes no status
 * itself: the facts come from the injected `sources()`, `status()`, `health()` and `ready()`, and
 * it never writes to the vendor database or to our state keys (the dashboard's retry/clean act on
 * BullMQ only).
 */
import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import Fastify, { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Config } from '../config/index.js';
import { type Logger, silentLogger } from '../log.js';
import { registry } from '../metrics.js';
import type { FleetStatus, StatusSnapshot } from '../pipeline/status-types.js';
import { assertBindAllowed, challenge, isAuthorized, webCredentials } from './auth.js';
import { BOARD_PATH, boardPlugin } from './board.js';
import { forgetQueueDepth, refreshQueueDepth, withTimeout } from './queue-depth.js';
import { escapeHtml, growingScrubber, redactDeep, secretValues } from './redaction.js';
import { loopbackHostVerdict, writeOriginVerdict } from './same-origin.js';
import { renderStatusPage } from './status-page.js';

/** A running source, as the server needs it. */
export interface WebSource {
  name: string;
  /** Its config: the values of its secrets are scrubbed from every body. */
  config: Config;
  /** Its BullMQ queues, for the dashboard and the queue-depth gauge. Owned (and closed) by the caller. */
  queues: Queue[];
}

export interface WebDeps {
  /**
   * config.web: host, port, readOnly, user/password/token (env only), shared by every source;
   * config.vendor.timeZone for the times not of one source (the board's, the page's own).
   */
  config: Config;
  /** The running sources now, in name order (asked again on every request). */
  sources(): WebSource[];
  /** Calls back after sources were added, removed or restarted (the board lists them again). */
  onSourcesChange?(listener: () => void): () => void;
  /** Facts for `/` and `/api/status`. */
  status(): Promise<FleetStatus>;
  /** `/healthz`: the process is alive (cheap; nothing that fails while Redis or MySQL is down). */
  health(): Promise<{ ok: boolean; details: Record<string, unknown> }>;
  /**
   * `/readyz`: one check per concern, each with its reason when it fails (jobs/readiness.ts), and
   * whatever else the answer carries (each source's checks: src/web/fleet-readiness.ts).
   */
  ready(): Promise<{
    ok: boolean;
    checks: Record<string, { ok: boolean; message?: string; informational?: boolean }>;
  }>;
  logger?: Logger;
  /**
   * Refreshes gauges kept in Redis before /metrics is served (the active lot health alerts: the
   * process that evaluates them may not be the one scraped).
   */
  beforeMetrics?(): Promise<void>;
}

export interface WebServer {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Paths answered without credentials (liveness probes cannot authenticate). */
const PUBLIC_PATHS = new Set(['/healthz']);
/** A health, readiness or status call that takes longer than this is answered 503. */
const CHECK_TIMEOUT_MS = 10_000;

const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * Starts the server on config.web.host:port (port 0 picks a free one). Throws WebConfigError
 * before binding when the credentials are incomplete, or when none are set and the host is not
 * loopback.
 */
export async function startWebServer(deps: WebDeps): Promise<WebServer> {
  const { config } = deps;
  const web = config.web;
  const logger = deps.logger ?? silentLogger;
  const credentials = webCredentials(web);
  assertBindAllowed(web.host, credentials);
  const authKind = !credentials ? 'none' : credentials.basic ? 'basic' : 'bearer';
  // Every source's secrets, and those of a source since removed (its texts may still be shown:
  // an error message, a reason).
  const scrubber = growingScrubber();
  const scrub = (text: string) => {
    scrubber.add(secretValues(config));
    for (const source of deps.sources()) scrubber.add(secretValues(source.config));
    return scrubber.scrub(text);
  };
  scrub('');
  // Each source's queue depths, on their own: one source's Redis down leaves the others' series.
  let depthShown = new Set<string>();
  const refreshEveryDepth = async () => {
    const sources = deps.sources();
    await Promise.all(
      sources.map((source) =>
        refreshQueueDepth(source.name, source.queues).catch((error: Error) =>
          logger.warn(
            { source: source.name, err: scrub(error.message) },
            'queue depth not refreshed for /metrics',
          ),
        ),
      ),
    );
    const names = new Set(sources.map((s) => s.name));
    for (const name of depthShown) if (!names.has(name)) forgetQueueDepth(name);
    depthShown = names;
  };

  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: 1024 * 1024,
  });

  const refuse = (request: FastifyRequest, reply: FastifyReply, status: number, reason: string) => {
    logger.warn({ method: request.method, path: pathOf(request), ip: request.ip, status }, reason);
    return reply.code(status).type('application/json').send({ error: reason });
  };

  // Order matters: who is asking (host, credentials) before what they may do (origin, read-only).
  app.addHook('onRequest', async (request, reply) => {
    const path = pathOf(request);
    if (!credentials) {
      const host = loopbackHostVerdict(request.headers.host);
      if (!host.ok) return refuse(request, reply, 403, host.reason);
    } else if (!PUBLIC_PATHS.has(path) && !isAuthorized(request.headers.authorization, credentials)) {
      reply.header('www-authenticate', challenge(credentials));
      return refuse(request, reply, 401, 'authentication required');
    }
    const origin = writeOriginVerdict(request.method, {
      host: request.headers.host,
      origin: request.headers.origin,
      referer: request.headers.referer,
      'sec-fetch-site': header(request, 'sec-fetch-site'),
    });
    if (!origin.ok) return refuse(request, reply, 403, origin.reason);
    if (web.readOnly && !['GET', 'HEAD', 'OPTIONS'].includes(request.method)) {
      return refuse(
        request,
        reply,
        403,
        'read-only dashboard (WEB_READ_ONLY): write actions are switched off',
      );
    }
    return undefined;
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    reply.header('x-frame-options', 'DENY');
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', API_CSP);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    if (typeof payload === 'string') return scrub(payload);
    const type = String(reply.getHeader('content-type') ?? '');
    if (Buffer.isBuffer(payload) && /^(text\/|application\/json)/.test(type)) {
      return Buffer.from(scrub(payload.toString('utf8')), 'utf8');
    }
    return payload;
  });

  app.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500)
      logger.error({ path: pathOf(request), err: scrub(error.message) }, 'web request failed');
    return reply.code(status).send({ error: scrub(error.message) });
  });

  app.get('/healthz', async (_request, reply) => {
    const result = await settle(
      () => deps.health(),
      (message) => ({ ok: false, details: { error: message } }),
    );
    return reply.code(result.ok ? 200 : 503).send(redactDeep(result));
  });

  app.get('/readyz', async (_request, reply) => {
    const result = await settle(
      () => deps.ready(),
      (message) => ({ ok: false, checks: { ready: { ok: false, message } } }),
    );
    return reply.code(result.ok ? 200 : 503).send(redactDeep(result));
  });

  app.get('/metrics', async (_request, reply) => {
    await refreshEveryDepth();
    await deps
      .beforeMetrics?.()
      .catch((error: Error) =>
        logger.warn({ err: scrub(error.message) }, 'alert gauge not refreshed for /metrics'),
      );
    return reply.type(registry.contentType).send(await registry.metrics());
  });

  const loadStatus = () =>
    settle<{ ok: true; fleet: FleetStatus } | { ok: false; message: string }>(
      async () => {
        const fleet = redactDeep(await deps.status()) as FleetStatus;
        // One source, as before sources existed: its facts unreadable is the page unavailable.
        const only = soleSource(fleet);
        if (only && !only.status) return { ok: false, message: only.error ?? 'unknown error' };
        return { ok: true, fleet };
      },
      (message) => ({ ok: false, message }),
    );

  app.get('/api/status', async (request, reply) => {
    const result = await loadStatus();
    if (!result.ok) return reply.code(503).send({ error: `status unavailable: ${result.message}` });
    const wanted = (request.query as Record<string, unknown>).source;
    if (typeof wanted === 'string' && wanted !== '') {
      const source = result.fleet.sources.find((s) => s.name === wanted);
      if (!source) {
        const names = result.fleet.sources.map((s) => s.name).join(', ') || 'none';
        return reply.code(404).send({ error: `source "${wanted}" is not running here (running: ${names})` });
      }
      if (!source.status)
        return reply.code(503).send({ error: `status of ${wanted} unavailable: ${source.error}` });
      return reply.send(source.status);
    }
    return reply.send(statusBody(result.fleet));
  });

  app.get('/', async (_request, reply) => {
    const result = await loadStatus();
    reply.type('text/html; charset=utf-8').header('content-security-policy', PAGE_CSP);
    if (!result.ok) return reply.code(503).send(errorPage(`Status unavailable: ${result.message}`));
    return reply.send(
      renderStatusPage(result.fleet, {
        timeZone: config.vendor.timeZone,
        auth: authKind,
        readOnly: web.readOnly,
        boardPath: BOARD_PATH,
      }),
    );
  });

  try {
    await app.register(
      boardPlugin({
        sources: deps.sources,
        ...(deps.onSourcesChange ? { onChange: deps.onSourcesChange } : {}),
        readOnly: web.readOnly,
        logger,
        timeZone: config.vendor.timeZone,
      }),
      { prefix: BOARD_PATH },
    );
    await app.listen({ host: web.host, port: web.port });
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info({ url, auth: authKind, readOnly: web.readOnly }, 'dashboard listening');
  return {
    url,
    port: address.port,
    close: () => app.close(),
  };

  async function settle<T>(run: () => Promise<T>, onError: (message: string) => T): Promise<T> {
    try {
      return await withTimeout(run(), CHECK_TIMEOUT_MS, 'the check');
    } catch (error) {
      const message = scrub(error instanceof Error ? error.message : String(error));
      logger.warn({ err: message }, 'dashboard check failed');
      return onError(message);
    }
  }
}

/** The one running source of a process that runs one and has none idle; otherwise undefined. */
function soleSource(fleet: FleetStatus) {
  return fleet.sources.length === 1 && fleet.idle.length === 0 ? fleet.sources[0] : undefined;
}

/**
 * `/api/status`: every source (`sources[]`, `idle[]`). With one source running, its snapshot's
 * fields are also at the top, where they were before sources existed (the documented stable
 * shape); `?source=<name>` answers one source's snapshot alone.
 */
function statusBody(fleet: FleetStatus): FleetStatus & Partial<StatusSnapshot> {
  const only = fleet.sources.length === 1 ? fleet.sources[0]!.status : null;
  return { ...(only ?? {}), ...fleet };
}

function pathOf(request: FastifyRequest): string {
  const q = request.url.indexOf('?');
  return q < 0 ? request.url : request.url.slice(0, q);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function errorPage(message: string): string {
  const text = escapeHtml(message);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="refresh" content="10"><title>isp-park-sync status</title></head><body><h1>isp-park-sync</h1><p>${text}</p><p>This page reloads every 10 s.</p></body></html>`;
}
