/**
 * Holds the ISP token: fetches it from the token endpoint, caches it, refreshes it ahead of
 * `expires_in`, and makes concurrent callers share one fetch. After a 401 the client calls
 * `invalidate` with the header it used; only that token is dropped, so fifty requests failing with
 * the same stale token cause one refresh. Never logs or throws a credential or a token.
 */

import { commonResponseSchema, describeIssues, tokenResponseSchema } from '../isp-spec/index.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { tokenRefreshes } from '../metrics.js';
import { TokenError } from './errors/index.js';
import { type Send, transportReason } from './http.js';
import { parseRetryAfter } from './outcome.js';
import { type AuthConfig, buildTokenRequest, scrubSecrets, secretsOf } from './token-request.js';

export interface TokenManagerOptions {
  auth: AuthConfig;
  /** The source these credentials belong to: the `source` label of isp_sync_token_refreshes_total. */
  source: string;
  send: Send;
  /** Per-request timeout, ms (for the message of a timeout). */
  timeoutMs: number;
  logger?: Logger;
  now?: () => number;
  /**
   * Called after each fetch: the new token's expiry (epoch ms), or the refusal's message. Never
   * given the token. Errors it throws are ignored.
   */
  onChange?: (change: { expiresAt: number; obtainedAt: number } | { error: string; at: number }) => void;
}

export interface TokenState {
  /** A token is held and has not expired. */
  valid: boolean;
  /** Epoch ms when the held token expires. */
  expiresAt?: number;
  /** Epoch ms from which the next caller fetches a new one. */
  refreshAt?: number;
}

interface HeldToken {
  authorization: string;
  expiresAt: number;
  refreshAt: number;
}

export class TokenManager {
  private held: HeldToken | undefined;
  private inflight: Promise<HeldToken> | undefined;
  private readonly secrets: string[];
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor(private readonly options: TokenManagerOptions) {
    this.secrets = secretsOf(options.auth);
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    buildTokenRequest(options.auth); // fails now, at start, when no credentials are configured
  }

  /** The `Authorization` header value to send, fetching a token first when needed. */
  async authorization(): Promise<string> {
    const held = this.held;
    if (held && this.now() < held.refreshAt) return held.authorization;
    try {
      return (await this.refresh()).authorization;
    } catch (error) {
      // Refreshing ahead failed, but the token we hold is still good: use it and try again next call.
      if (held && this.held === held && this.now() < held.expiresAt) {
        this.logger.warn({ err: (error as Error).message }, 'ISP token refresh ahead of expiry failed');
        return held.authorization;
      }
      throw error;
    }
  }

  /** ISP refused `authorization` (401): forget that token, unless a newer one replaced it already. */
  invalidate(authorization: string): void {
    if (this.held?.authorization === authorization) this.held = undefined;
  }

  private notify(change: Parameters<NonNullable<TokenManagerOptions['onChange']>>[0]): void {
    try {
      this.options.onChange?.(change);
    } catch {
      // Bookkeeping for the status page must never break a push.
    }
  }

  state(): TokenState {
    const held = this.held;
    if (!held) return { valid: false };
    return { valid: this.now() < held.expiresAt, expiresAt: held.expiresAt, refreshAt: held.refreshAt };
  }

  private refresh(): Promise<HeldToken> {
    if (!this.inflight) {
      this.inflight = this.fetchToken().finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  private async fetchToken(): Promise<HeldToken> {
    const { auth, send, timeoutMs } = this.options;
    const request = buildTokenRequest(auth);
    let answer: Awaited<ReturnType<Send>>;
    try {
      answer = await send({
        method: 'POST',
        path: auth.tokenPath,
        headers: request.headers,
        body: request.body,
      });
    } catch (error) {
      throw this.fail(`token endpoint unreachable: ${transportReason(error, timeoutMs)}`, false);
    }
    const { status } = answer;
    const json = parseJson(answer.body);
    if (status >= 200 && status < 300) {
      const token = tokenResponseSchema.safeParse(json);
      if (token.success) {
        const received = this.now();
        const ttlMs = token.data.expiresInSeconds * 1000;
        // Ahead by the configured margin, but at most half the lifetime (short-lived tokens).
        const aheadMs = Math.min(auth.refreshAheadSeconds * 1000, ttlMs / 2);
        const type = /^bearer$/i.test(token.data.tokenType) ? 'Bearer' : token.data.tokenType;
        this.held = {
          authorization: `${type} ${token.data.accessToken}`,
          expiresAt: received + ttlMs,
          refreshAt: received + ttlMs - aheadMs,
        };
        tokenRefreshes.inc({ source: this.options.source, result: 'ok' });
        this.notify({ expiresAt: this.held.expiresAt, obtainedAt: received });
        this.logger.info({ expiresInSeconds: token.data.expiresInSeconds }, 'ISP token fetched');
        return this.held;
      }
      // Some gateways answer 200 with a business code instead of a token.
      const common = commonResponseSchema.safeParse(json);
      if (common.success && (common.data.code === 1 || common.data.code === 401)) {
        throw this.fail(
          `token endpoint refused the credentials: code ${common.data.code}, ${common.data.message}`,
          true,
          status,
        );
      }
      // Say what is wrong with the answer, never echo it: it may hold a token.
      const why = json === undefined ? 'not JSON' : describeIssues(token.error);
      throw this.fail(`token endpoint gave no usable token (HTTP ${status}): ${why}`, false, status);
    }
    if (status === 429 || status >= 500) {
      const retryAfterMs = status === 429 ? parseRetryAfter(answer.retryAfter, this.now()) : undefined;
      throw this.fail(
        `token endpoint failed (HTTP ${status}): ${summary(json, answer.body)}`,
        false,
        status,
        retryAfterMs,
      );
    }
    throw this.fail(
      `token endpoint refused the credentials (HTTP ${status}): ${summary(json, answer.body)}`,
      true,
      status,
    );
  }

  private fail(message: string, refused: boolean, status?: number, retryAfterMs?: number): TokenError {
    tokenRefreshes.inc({ source: this.options.source, result: refused ? 'refused' : 'failed' });
    const error = new TokenError(scrubSecrets(message, this.secrets), refused, status, retryAfterMs);
    this.notify({ error: error.message, at: this.now() });
    this.logger.warn({ status, refused }, error.message);
    return error;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The server's own words (OAuth `error_description`/`error`, or ISP's msg), short. */
function summary(json: unknown, raw: string): string {
  if (json && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    const words = [o.error_description, o.error, o.msg, o.message].find((v) => typeof v === 'string' && v);
    if (words) return String(words).slice(0, 300);
  }
  const text = raw.trim();
  return text ? text.slice(0, 300) : '(empty body)';
}
