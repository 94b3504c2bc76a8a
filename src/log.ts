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

export function createLogger(level = 'info', name = 'isp-park-sync'): Logger {
  return pino({
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  });
}

/** A logger that discards everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
