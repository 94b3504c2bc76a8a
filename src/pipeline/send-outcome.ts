/**
 * The one mapping from what ISP answered to what the pipeline does with a batch:
 * - delivered: done (the caller writes the ledger);
 * - retryable (5xx, 429, timeout, connection): the job is retried with backoff;
 * - rejected (code 1): the batch is retried a few times, then split until the refused records
 *   are alone, and each is isolated in the failed set with ISP's message;
 * - auth-failed: the job waits, retried with backoff, until an operator fixes the credentials.
 * `sendOutcome` reduces the ISP client's per-part result to one outcome; `throwUnlessDelivered`
 * turns an outcome that is not a delivery into the error the push processor (jobs/push.ts) acts on.
 */
import type { BatchResult } from '../isp/index.js';
import { IspAuthError, IspRejectedError, IspUnavailableError, RecordRejectedError } from './errors.js';

/**
 * What sending one batch came to. Should the client have split the batch after all,
 * `deliveredFirst` records at its head were accepted before the failure.
 */
export type SendOutcome =
  | { kind: 'delivered' }
  | { kind: 'rejected'; message: string; deliveredFirst?: number }
  | { kind: 'auth-failed'; message: string; deliveredFirst?: number }
  | { kind: 'retryable'; reason: string; retryAfterMs?: number; deliveredFirst?: number };

/** Converts the ISP client's multi-part result for one in-limit batch into one outcome. */
export function sendOutcome(result: BatchResult): SendOutcome {
  const failed = result.parts.find((p) => p.outcome.kind !== 'delivered');
  if (!failed) return { kind: 'delivered' };
  const o = failed.outcome;
  // Parts are sent in order and stop at the first failure: everything before it was accepted.
  const deliveredFirst = failed.start;
  switch (o.kind) {
    case 'rejected':
      return { kind: 'rejected', message: o.message, deliveredFirst };
    case 'auth-failed':
      return { kind: 'auth-failed', message: o.message, deliveredFirst };
    case 'retryable':
      return o.retryAfterMs === undefined
        ? { kind: 'retryable', reason: o.reason, deliveredFirst }
        : { kind: 'retryable', reason: o.reason, retryAfterMs: o.retryAfterMs, deliveredFirst };
    default:
      return { kind: 'delivered' };
  }
}

/**
 * Throws the error a push job fails with unless the batch was delivered. `isolatedKey`: the batch is
 * one record (or lot) already isolated, so a rejection is final for it and parks it in the failed
 * set instead of asking for another split.
 */
export function throwUnlessDelivered(outcome: SendOutcome, isolatedKey?: string): void {
  switch (outcome.kind) {
    case 'delivered':
      return;
    case 'retryable':
      throw new IspUnavailableError(outcome.reason, outcome.retryAfterMs);
    case 'auth-failed':
      throw new IspAuthError(outcome.message);
    case 'rejected':
      throw isolatedKey === undefined
        ? new IspRejectedError(outcome.message)
        : new RecordRejectedError(outcome.message, isolatedKey);
  }
}
