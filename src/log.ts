/**
 * The process logger (pino). Secrets and photos are redacted by path, and any string that looks
 * like a credential-bearing URL is cut before it is logged (see redact.ts).
 */
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  '*.clientSecret',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.authorization',
  'headers.authorization',
  '*.enter_pic',
  '*.depart_pic',
  '*.*.enter_pic',
  '*.*.depart_pic',
];

/** `toStderr`: log lines go to stderr (commands whose stdout is their answer). */
export function createLogger(level = 'info', name = 'isp-park-sync', toStderr = false): Logger {
  const options = {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  return toStderr ? pino(options, pino.destination(2)) : pino(options);
}

/** A logger that discards everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
