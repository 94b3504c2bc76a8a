/**
 * What became of one ISP request, as a closed set of cases the pipeline can act on, and the pure
 * rules that map an HTTP answer onto them (open point 2). Owns classification only: it sends
 * nothing and decides no retries (the pipeline does).
 */
import { commonResponseSchema, RESPONSE_CODES } from '../isp-spec/index.js';

export type PushOutcome =
  /** ISP answered HTTP 2xx with code 0 or 200. */
  | { kind: 'delivered'; code: number; message: string }
  /** ISP refused the payload (code 1; or HTTP 400/413/422): its message verbatim. Retrying as-is will not help. */
  | { kind: 'rejected'; message: string; status?: number }
  /** The token endpoint refused our credentials, or ISP said 401 again right after a fresh token. */
  | { kind: 'auth-failed'; message: string; status?: number }
  /** Worth trying again later: 5xx, code 500, 429, timeout, connection error, unparseable answer. */
  | { kind: 'retryable'; reason: string; status?: number; retryAfterMs?: number };

export type OutcomeKind = PushOutcome['kind'];

/** One attempted sub-batch: records [start, end) of the caller's array and what became of them. */
export interface BatchPart {
  start: number;
  end: number;
  outcome: PushOutcome;
}

/**
 * The result of one client call. Sub-batches are sent in order and sending stops at the first part
 * that is not delivered: records from the last part's `end` onward (`notSent`) were not attempted.
 */
export interface BatchResult {
  parts: BatchPart[];
  /** Records ISP accepted (the sum of the delivered parts' lengths). */
  delivered: number;
  /** Index of the first record that was not attempted (= input length when all were attempted). */
  notSent: number;
  /** True when every record was delivered. */
  ok: boolean;
}

/** An HTTP answer from a data endpoint, as the classifier needs it. */
export interface Answer {
  status: number;
  /** Raw body text (small: ISP answers are a few fields). */
  body: string;
  retryAfter?: string | undefined;
}

/**
 * The answer's class, with `unauthorized` standing for a 401 (HTTP status or body code) that the
 * client handles by refreshing the token once before it becomes `auth-failed`.
 */
export type Classified = PushOutcome | { kind: 'unauthorized'; status: number; message: string };

const MAX_QUOTED = 300;

export function classifyAnswer(answer: Answer, now: number = Date.now()): Classified {
  const { status } = answer;
  const parsed = parseCommon(answer.body);
  if (status === 401 || parsed?.code === RESPONSE_CODES.unauthorized) {
    return { kind: 'unauthorized', status, message: parsed?.message || quote(answer.body) };
  }
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(answer.retryAfter, now);
    return {
      kind: 'retryable',
      reason: `ISP is rate limiting (HTTP 429)${retryAfterMs !== undefined ? `, retry after ${retryAfterMs} ms` : ''}`,
      status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  if (status >= 500) {
    return {
      kind: 'retryable',
      reason: `ISP error (HTTP ${status}): ${describe(parsed, answer.body)}`,
      status,
    };
  }
  if (status >= 200 && status < 300) {
    if (!parsed)
      return {
        kind: 'retryable',
        reason: `unparseable answer (HTTP ${status}): ${quote(answer.body)}`,
        status,
      };
    if ((RESPONSE_CODES.ok as readonly number[]).includes(parsed.code)) {
      return { kind: 'delivered', code: parsed.code, message: parsed.message };
    }
    if (parsed.code === RESPONSE_CODES.rejected) return { kind: 'rejected', message: parsed.message, status };
    // code 500 and codes the spec does not list: nothing says the payload is at fault.
    return { kind: 'retryable', reason: `ISP answered code ${parsed.code}: ${parsed.message}`, status };
  }
  // Payload-shaped 4xx: splitting the batch (the pipeline's split) can isolate the cause.
  if (status === 400 || status === 413 || status === 422 || parsed?.code === RESPONSE_CODES.rejected) {
    return { kind: 'rejected', message: `HTTP ${status}: ${describe(parsed, answer.body)}`, status };
  }
  // 403, 404, 405, 408 ... do not depend on the records (wrong URL, permissions, gateway): keep the
  // batch and retry, so that fixing the deployment delivers it instead of failing every record.
  return { kind: 'retryable', reason: `unexpected HTTP ${status}: ${describe(parsed, answer.body)}`, status };
}

/** Retry-After as delay seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

function parseCommon(body: string): { code: number; message: string } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const result = commonResponseSchema.safeParse(json);
  return result.success ? result.data : undefined;
}

function describe(parsed: { code: number; message: string } | undefined, body: string): string {
  return parsed ? `code ${parsed.code}, ${parsed.message || '(no message)'}` : quote(body);
}

function quote(body: string): string {
  const text = body.trim();
  if (!text) return '(empty body)';
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}…` : text;
}
