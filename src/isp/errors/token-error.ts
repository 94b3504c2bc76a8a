/**
 * The token endpoint did not give us a token. `refused` means ISP answered and said no (wrong
 * credentials, unsupported grant, a 4xx): retrying will not help until the configuration changes.
 * Otherwise the endpoint was unreachable, slow or broken (5xx, 429, timeout, unparseable answer)
 * and a later attempt may succeed. The message never holds a credential or a token.
 */
export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    message: string,
    /** True when ISP refused the credentials (an operator must fix them). */
    readonly refused: boolean,
    /** HTTP status of the token endpoint's answer, when there was one. */
    readonly status?: number,
    /** From a 429's Retry-After, when given. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}
