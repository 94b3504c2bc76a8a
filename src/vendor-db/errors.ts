/**
 * Why a vendor database read failed, as typed errors an operator can act on. Messages never carry
 * the database URL's password (only `redactUrl` forms) and never the vendor's row data.
 */

/** The streams' config does not fit the vendor schema; each problem names the config key. */
export class VendorSchemaError extends Error {
  override readonly name = 'VendorSchemaError';
  constructor(readonly problems: string[]) {
    super(`the stream config does not match the vendor database:\n  ${problems.join('\n  ')}`);
  }
}

/** A query ran longer than vendor.queryTimeoutMs (a locked table, an overloaded server). */
export class VendorTimeoutError extends Error {
  override readonly name = 'VendorTimeoutError';
  constructor(
    readonly timeoutMs: number,
    readonly what: string,
  ) {
    super(
      `vendor query (${what}) did not finish within ${timeoutMs} ms and was abandoned; ` +
        'the table may be locked (check SHOW PROCESSLIST) or vendor.queryTimeoutMs too small; will retry',
    );
  }
}

/** The vendor server cannot be reached or dropped the connection (twice in a row). */
export class VendorUnavailableError extends Error {
  override readonly name = 'VendorUnavailableError';
  constructor(
    readonly reason: string,
    readonly where: string,
  ) {
    super(`vendor database ${where} unavailable: ${reason}; will retry`);
  }
}

/** The server refused a statement (privileges, syntax in a configured expression, ...). */
export class VendorQueryError extends Error {
  override readonly name = 'VendorQueryError';
  constructor(
    readonly code: string | undefined,
    readonly serverMessage: string,
    readonly what: string,
  ) {
    super(`vendor query (${what}) failed: ${serverMessage}${code ? ` [${code}]` : ''}`);
  }
}
