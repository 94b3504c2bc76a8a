/**
 * Starts the ISP simulator: a fastify server with the ISP endpoints, the /_sim/ admin API and the
 * fault injection that sits in front of the ISP endpoints. `startSimulator` is the programmatic
 * start for tests and benchmarks (port 0 allowed); the `sim` CLI command wraps it.
 */
import { pipeline, Transform } from 'node:stream';
import Fastify, {
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../log.js';
import { registerAdminRoutes } from './admin-routes.js';
import { applyFaultsPatch, DEFAULT_FAULTS, type Faults, type FaultsPatch, pickFault } from './faults.js';
import { type Credentials, clientsAccepted, dropConnection, registerIspRoutes } from './isp-routes.js';
import { SimulatorState } from './state.js';
import type { StorageMode } from './store.js';
import { applyStrictPatch, DEFAULT_STRICTNESS, type Strictness, type StrictPatch } from './strict.js';

export interface SimulatorOptions extends Partial<Credentials> {
  /**
   * More clients accepted besides the default one (`clientId`, `clientSecret`, ...), each with its
   * own id and secret, as ISP hands out credentials per integrator. Every receipt records the
   * client whose token sent it. A client id given twice is refused at start.
   */
  clients?: readonly Credentials[];
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** `light` keeps only natural keys and receipt times. Default `full`. */
  storage?: StorageMode;
  /** Append accepted records to this JSONL file. */
  jsonlFile?: string | undefined;
  /** Largest request body, bytes. Default 64 MiB (100 photos of 512 KiB need ~52 MB). */
  bodyLimitBytes?: number;
  /** Serve https with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Switches at start (faults, token lifetime, answer style). */
  faults?: FaultsPatch;
  /** Strictness switches at start (all off by default; see strict.ts). */
  strict?: StrictPatch;
  /** Logs server errors; requests are not logged. */
  logger?: Logger;
  /** Random source of the fault probabilities (tests). */
  random?: () => number;
}

export interface Simulator {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  state: SimulatorState;
  app: FastifyInstance;
  /** Start-time switches with `patch` applied (as PUT /_sim/faults). */
  setFaults(patch: FaultsPatch): Faults;
  /** Current switches with `patch` applied (as PATCH /_sim/faults). */
  patchFaults(patch: FaultsPatch): Faults;
  /** Start-time strictness with `patch` applied (as PUT /_sim/strict). */
  setStrict(patch: StrictPatch): Strictness;
  /** Current strictness with `patch` applied (as PATCH /_sim/strict). */
  patchStrict(patch: StrictPatch): Strictness;
  reset(): void;
  expireTokens(): void;
  close(): Promise<void>;
}

export const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024;
export const DEFAULT_CLIENT_ID = 'demo-client';

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  // Checked before anything starts: a bad client list leaves nothing to close.
  const clients = clientsAccepted(
    {
      clientId: options.clientId ?? DEFAULT_CLIENT_ID,
      clientSecret: options.clientSecret,
      username: options.username,
      password: options.password,
    },
    options.clients,
  );
  const random = options.random ?? Math.random;
  const baseline = applyFaultsPatch(DEFAULT_FAULTS, options.faults ?? {}, Date.now());
  const state = new SimulatorState(
    options.storage ?? 'full',
    options.jsonlFile,
    baseline,
    Date.now,
    applyStrictPatch(DEFAULT_STRICTNESS, options.strict ?? {}),
  );
  const serverOptions: FastifyServerOptions & { https?: unknown } = {
    bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    ...(options.logger ? { loggerInstance: options.logger } : {}),
    ...(options.tls ? { https: options.tls } : {}),
  };
  const app = Fastify(serverOptions) as unknown as FastifyInstance;

  // JSON bodies up to ~52 MB (100 photos): parsed from one Buffer with plain JSON.parse, faster
  // than fastify's default here. JSON.parse makes "__proto__" an own property, and no body is
  // ever merged into another object, so prototype poisoning has nothing to act on.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, JSON.parse((body as Buffer).toString('utf8')));
    } catch (error) {
      done(
        Object.assign(new Error(`body is not valid JSON: ${(error as Error).message}`), { statusCode: 400 }),
      );
    }
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    },
  );

  const targetOf = (request: FastifyRequest) =>
    (request.routeOptions.config as { target?: string } | undefined)?.target ?? 'other';

  app.addHook('onRequest', async (request, reply) => {
    const target = targetOf(request);
    if (target === 'admin') return;
    if (target !== 'other') state.counters.total++;
    const faults = state.faults;
    const fault = pickFault(
      faults,
      Date.now(),
      random,
      target === 'isp' || target === 'token' ? target : 'other',
    );
    if (fault === 'down' || fault === 'drop') {
      state.counters[fault === 'down' ? 'down' : 'dropped']++;
      return dropConnection(request, reply);
    }
    if (fault === 'http429') {
      state.counters.http429++;
      return reply
        .code(429)
        .header('retry-after', String(faults.retryAfterSeconds))
        .send({ code: 429, msg: 'too many requests (simulated)' });
    }
    if (fault === 'http500') {
      state.counters.http500++;
      return reply.code(500).send({ code: 500, msg: 'system error (simulated)' });
    }
  });

  // The strict body limit can change at run time, which fastify's own bodyLimit cannot: a declared
  // length over it is refused before the body is read; a chunked body is cut off when it passes it.
  app.addHook('preParsing', async (request, _reply, payload) => {
    const limit = state.strict.maxBodyBytes;
    if (limit === 0 || targetOf(request) !== 'isp') return payload;
    const declared = Number(request.headers['content-length']);
    if (declared > limit) throw tooLarge(`${declared} bytes`, limit);
    let received = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received > limit) callback(tooLarge(`over ${limit} bytes`, limit));
        else callback(null, chunk);
      },
    });
    // pipeline, not pipe: a client that goes away mid-body must end the request, not leave it open.
    return pipeline(payload, counted, () => {});
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ code: 1, msg: `no such endpoint: ${request.method} ${request.url}` });
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'simulator error');
    const target = targetOf(request);
    if (status < 500 && (target === 'isp' || target === 'token')) state.counters.rejected++;
    if (status === 413 && target === 'isp') state.counters.tooLarge++;
    // Client mistakes (bad JSON, body too large, unknown content type) in ISP's answer shape.
    reply.code(status).send({ code: status >= 500 ? 500 : 1, msg: error.message });
  });

  registerIspRoutes(app, state, clients, random);
  registerAdminRoutes(app, state);

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const host =
    options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : '127.0.0.1';
  const url = `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    port,
    state,
    app,
    setFaults: (patch) => state.setFaults(patch),
    patchFaults: (patch) => state.patchFaults(patch),
    setStrict: (patch) => state.setStrict(patch),
    patchStrict: (patch) => state.patchStrict(patch),
    reset: () => state.reset(),
    expireTokens: () => state.expireTokens(),
    async close() {
      await app.close();
      await state.store.close();
    },
  };
}

function tooLarge(size: string, limit: number): Error {
  return Object.assign(new Error(`request body is ${size}, over this ISP's limit of ${limit} bytes`), {
    statusCode: 413,
  });
}

/** Simulator options from config.sim (the `sim` command and the demo). */
export function simulatorOptionsFromConfig(sim: Config['sim']): SimulatorOptions {
  return {
    host: sim.host,
    port: sim.port,
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    storage: sim.storage,
    jsonlFile: sim.jsonlFile,
    faults: { tokenTtlSeconds: sim.tokenTtlSeconds },
  };
}
