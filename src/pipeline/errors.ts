/**
 * Why a push job did not finish. The job processors turn these into BullMQ retries, rate limits or
 * the failed set; the message is what an operator reads on the dashboard.
 */

/** ISP or the network failed in a way that heals by itself (5xx, 429, timeout, connection). */
export class IspUnavailableError extends Error {
  override readonly name = 'IspUnavailableError';
  constructor(
    readonly reason: string,
    readonly retryAfterMs?: number,
  ) {
    super(`ISP unavailable: ${reason}; will retry with backoff`);
  }
}

/** ISP answered code 1 for a batch; retried a few times before the batch is split. */
export class IspRejectedError extends Error {
  override readonly name = 'IspRejectedError';
  constructor(readonly ispMessage: string) {
    super(`ISP rejected the batch (code 1): ${ispMessage}`);
  }
}

/** The token endpoint refuses our credentials: nothing heals until an operator fixes them. */
export class IspAuthError extends Error {
  override readonly name = 'IspAuthError';
  constructor(readonly ispMessage: string) {
    super(
      `ISP refused our credentials: ${ispMessage}. Check ISP_CLIENT_ID / ISP_CLIENT_SECRET; pushes resume once a token is issued`,
    );
  }
}

/** A single record ISP rejected, isolated by a split; lands in the failed set for a replay. */
export class RecordRejectedError extends Error {
  override readonly name = 'RecordRejectedError';
  constructor(
    readonly ispMessage: string,
    readonly naturalKey: string,
  ) {
    super(
      `ISP rejected record ${naturalKey} (code 1): ${ispMessage}. Fix the data or config, then replay this job`,
    );
  }
}

/** A photo could not be fetched for a reason that may pass (timeout, 5xx): the job is retried. */
export class PhotoUnavailableError extends Error {
  override readonly name = 'PhotoUnavailableError';
  constructor(
    readonly vendorKey: string,
    readonly reason: string,
  ) {
    super(`photo of vendor row ${vendorKey} unavailable (${reason}); will retry, then send without it`);
  }
}
