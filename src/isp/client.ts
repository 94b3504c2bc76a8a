/**
 * The ISP client: one method per endpoint (spec §3–§7). Each call splits its records into bounded
 * request bodies, sends them in order over the keep-alive pool with a bearer token, and reports per
 * sub-batch what became of it. It refreshes the token once and retries once on a 401; every other
 * retry, and what to do with rejected records, is the caller's (the pipeline's) decision. It never
 * drops a record silently: what it did not send is reported as not sent.
 */
import type { Config } from '../config/index.js';
import { type Departure, ENDPOINTS, type Entrance, type Park, type SpotNum } from '../isp-spec/index.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { pushDuration } from '../metrics.js';
import { type BatchBody, splitBatches, splitParkCodes, splitSerialized } from './batches.js';
import { TokenError } from './errors/index.js';
import { IspHttp, transportReason } from './http.js';
import { type BatchPart, type BatchResult, classifyAnswer, type PushOutcome } from './outcome.js';
import type { RecordText, SplicedBody } from './record-text.js';
import { TokenManager, type TokenManagerOptions, type TokenState } from './token-manager.js';
import { scrubSecrets, secretsOf } from './token-request.js';

export interface IspClientOptions {
  isp: Config['isp'];
  /** The source whose data this client sends (config.source.name): the `source` label of its metrics. */
  source: string;
  logger?: Logger;
  /** Clock for token expiry (tests). */
  now?: () => number;
  /** Told when a token is fetched or refused (the worker records it for `status`; never the token). */
  onTokenChange?: TokenManagerOptions['onChange'];
}

/** Endpoint names used as the `endpoint` label of isp_sync_push_duration_seconds. */
export type EndpointName = 'parks' | 'parkDeletions' | 'spotNums' | 'entrances' | 'departures';

const PING_TIMEOUT_MS = 5_000;

export class IspClient {
  private readonly http: IspHttp;
  private readonly tokens: TokenManager;
  private readonly logger: Logger;
  private readonly secrets: string[];

  constructor(private readonly options: IspClientOptions) {
    this.logger = options.logger ?? silentLogger;
    this.secrets = secretsOf(options.isp.auth);
    this.http = new IspHttp(options.isp);
    this.tokens = new TokenManager({
      auth: options.isp.auth,
      source: options.source,
      send: this.http.send,
      timeoutMs: options.isp.timeoutMs,
      logger: this.logger,
      ...(options.now ? { now: options.now } : {}),
      ...(options.onTokenChange ? { onChange: options.onTokenChange } : {}),
    });
  }

  /** POST /park/spot: add or update lots. */
  upsertParks(parks: readonly Park[]): Promise<BatchResult> {
    return this.postRecords('parks', ENDPOINTS.parks, parks);
  }

  /**
   * DELETE /park/spot with `{"park_code":"A,B"}`. A code that is empty or contains "," cannot be
   * expressed in that body (it would name other lots): it is reported rejected without being sent.
   */
  async deleteParks(parkCodes: readonly string[]): Promise<BatchResult> {
    const bad = parkCodes.findIndex((code) => code.trim() === '' || code.includes(','));
    const sendable = bad === -1 ? parkCodes : parkCodes.slice(0, bad);
    const result = await this.sendAll(
      'parkDeletions',
      'DELETE',
      ENDPOINTS.parks,
      splitParkCodes(sendable, this.options.isp.batch),
      parkCodes.length,
    );
    if (bad === -1 || result.parts.some((part) => part.outcome.kind !== 'delivered')) return result;
    const message = `not sent: park code ${JSON.stringify(parkCodes[bad])} is empty or contains "," (DELETE /park/spot joins codes with ",")`;
    return finish(
      [...result.parts, { start: bad, end: bad + 1, outcome: { kind: 'rejected', message } }],
      parkCodes.length,
    );
  }

  /** POST /park/spot-num: free-space counts. */
  pushSpotNums(items: readonly SpotNum[]): Promise<BatchResult> {
    return this.postRecords('spotNums', ENDPOINTS.spotNums, items);
  }

  /** POST /park/entrance. */
  pushEntrances(items: readonly Entrance[]): Promise<BatchResult> {
    return this.postRecords('entrances', ENDPOINTS.entrances, items);
  }

  /** POST /park/departure. */
  pushDepartures(items: readonly Departure[]): Promise<BatchResult> {
    return this.postRecords('departures', ENDPOINTS.departures, items);
  }

  /**
   * POST records the caller has serialized already, one JSON object each (a photo's Base64 spliced
   * in as bytes: record-text.ts): the pipeline measures its batches with these texts and sends them
   * as they are.
   */
  pushSerialized(
    endpoint: Exclude<EndpointName, 'parkDeletions'>,
    texts: readonly RecordText[],
    bytes?: readonly number[],
  ): Promise<BatchResult> {
    return this.sendAll(
      endpoint,
      'POST',
      ENDPOINTS[endpoint],
      splitSerialized(texts, this.options.isp.batch, bytes),
      texts.length,
    );
  }

  /** The held token, for the status page. */
  tokenState(): TokenState {
    return this.tokens.state();
  }

  /**
   * ISP is reachable: it gives any HTTP answer to a HEAD of the base URL within a few seconds.
   * Says nothing about the credentials (tokenState does); fetches no token.
   */
  async ping(): Promise<boolean> {
    try {
      await this.http.send({
        method: 'HEAD',
        path: '/',
        headers: {},
        timeoutMs: Math.min(this.options.isp.timeoutMs, PING_TIMEOUT_MS),
      });
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private postRecords(
    endpoint: EndpointName,
    path: string,
    records: readonly unknown[],
  ): Promise<BatchResult> {
    return this.sendAll(
      endpoint,
      'POST',
      path,
      splitBatches(records, this.options.isp.batch),
      records.length,
    );
  }

  private async sendAll(
    endpoint: EndpointName,
    method: 'POST' | 'DELETE',
    path: string,
    bodies: BatchBody[],
    total: number,
  ): Promise<BatchResult> {
    const parts: BatchPart[] = [];
    for (const part of bodies) {
      const outcome = await this.sendOne(endpoint, method, path, part.body);
      parts.push({ start: part.start, end: part.end, outcome });
      if (outcome.kind !== 'delivered') {
        this.logger.warn(
          { endpoint, start: part.start, end: part.end, records: total, outcome },
          `ISP ${endpoint}: records ${part.start}-${part.end - 1} ${outcome.kind}`,
        );
        break;
      }
    }
    return finish(parts, total);
  }

  /** One request, with one token refresh and one retry on a 401. */
  private async sendOne(
    endpoint: EndpointName,
    method: 'POST' | 'DELETE',
    path: string,
    body: string | SplicedBody,
  ): Promise<PushOutcome> {
    const started = performance.now();
    const outcome = await this.attempt(method, path, body);
    pushDuration.observe(
      { source: this.options.source, endpoint, outcome: outcome.kind },
      (performance.now() - started) / 1000,
    );
    return outcome;
  }

  private async attempt(
    method: 'POST' | 'DELETE',
    path: string,
    body: string | SplicedBody,
  ): Promise<PushOutcome> {
    for (let attempt = 1; ; attempt++) {
      let authorization: string;
      try {
        authorization = await this.tokens.authorization();
      } catch (error) {
        return tokenOutcome(error, this.secrets);
      }
      let answer: Awaited<ReturnType<IspHttp['send']>>;
      try {
        answer = await this.http.send({
          method,
          path,
          headers: {
            authorization,
            'content-type': 'application/json; charset=utf-8',
            accept: 'application/json',
          },
          body,
        });
      } catch (error) {
        return {
          kind: 'retryable',
          reason: scrubSecrets(transportReason(error, this.options.isp.timeoutMs), this.secrets),
        };
      }
      const classified = classifyAnswer(answer);
      if (classified.kind !== 'unauthorized') return classified;
      if (attempt === 1) {
        this.tokens.invalidate(authorization);
        continue;
      }
      return {
        kind: 'auth-failed',
        status: classified.status,
        message: `ISP refused a freshly fetched token (401): ${classified.message}`,
      };
    }
  }
}

function tokenOutcome(error: unknown, secrets: string[]): PushOutcome {
  if (error instanceof TokenError) {
    if (error.refused) {
      return {
        kind: 'auth-failed',
        message: error.message,
        ...(error.status ? { status: error.status } : {}),
      };
    }
    return {
      kind: 'retryable',
      reason: error.message,
      ...(error.status ? { status: error.status } : {}),
      ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    };
  }
  return {
    kind: 'retryable',
    reason: scrubSecrets(`token fetch failed: ${(error as Error)?.message ?? error}`, secrets),
  };
}

function finish(parts: BatchPart[], total: number): BatchResult {
  let delivered = 0;
  for (const part of parts) if (part.outcome.kind === 'delivered') delivered += part.end - part.start;
  const notSent = parts.length ? parts.at(-1)!.end : total;
  const ok = delivered === total;
  return { parts, delivered, notSent: ok ? total : notSent, ok };
}
