/** Times an operator types on the command line (`--from`, `--since`, ...). */
import { DateTime } from 'luxon';

/** A time argument (`--from`, `--since`, ...) an operator gave that is not a time. */
export class TimeArgumentError extends Error {
  override readonly name = 'TimeArgumentError';
}

/**
 * An operator's time as Unix seconds: ISO 8601 (`2026-03-01`, `2026-03-01T08:30`,
 * `2026-03-01T08:30:00+08:00`, `...Z`) or SQL text (`2026-03-01 08:30:00`). Without an offset it is
 * read in the vendor's zone, like the vendor's own DATETIMEs.
 */
export function parseOperatorTime(text: string, zone: string, flag: string): number {
  const trimmed = text.trim();
  let parsed = DateTime.fromISO(trimmed, { zone });
  if (!parsed.isValid) parsed = DateTime.fromSQL(trimmed, { zone });
  if (!parsed.isValid)
    throw new TimeArgumentError(
      `${flag}: "${text}" is not a time; use ISO 8601 such as 2026-03-01T08:30 (read in the vendor zone ` +
        `${zone}) or with an offset such as 2026-03-01T08:30:00+08:00`,
    );
  return Math.floor(parsed.toSeconds());
}
