/**
 * Who may use the dashboard: HTTP Basic (WEB_USER + WEB_PASSWORD) and/or a bearer token
 * (WEB_TOKEN), compared in constant time; with neither, loopback only. Pure functions over the
 * config and request headers: this module never logs, and never puts a credential in an error.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { Config } from '../config/index.js';
import { WebConfigError } from './errors.js';

export const REALM = 'isp-park-sync';

export interface WebCredentials {
  basic?: { user: string; password: string };
  token?: string;
}

/** `null` when no credentials are configured (the server then serves loopback only, without auth). */
export function webCredentials(web: Config['web']): WebCredentials | null {
  const user = web.user || undefined;
  const password = web.password || undefined;
  const token = web.token || undefined;
  if ((user === undefined) !== (password === undefined)) {
    const missing = user === undefined ? 'WEB_USER' : 'WEB_PASSWORD';
    throw new WebConfigError(
      `web: HTTP Basic needs both WEB_USER and WEB_PASSWORD; ${missing} is not set (or use WEB_TOKEN alone)`,
    );
  }
  if (user === undefined && token === undefined) return null;
  const credentials: WebCredentials = {};
  if (user !== undefined && password !== undefined) credentials.basic = { user, password };
  if (token !== undefined) credentials.token = token;
  return credentials;
}

/** 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`: addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h === 'localhost' || h === 'localhost.') return true;
  if (h.startsWith('::ffff:')) h = h.slice('::ffff:'.length);
  if (isIP(h) === 4) return h.split('.')[0] === '127';
  if (isIP(h) === 6) return new URL(`http://[${h}]/`).hostname === '[::1]';
  return false;
}

/** Refuses to serve without credentials anywhere but loopback. */
export function assertBindAllowed(host: string, credentials: WebCredentials | null): void {
  if (credentials || isLoopbackHost(host)) return;
  throw new WebConfigError(
    `web: refusing to serve the dashboard on ${host} without credentials. Set WEB_USER and ` +
      'WEB_PASSWORD (HTTP Basic) or WEB_TOKEN (bearer) in the environment, or bind WEB_HOST to 127.0.0.1',
  );
}

/** Whether an Authorization header carries one of the configured credentials. */
export function isAuthorized(header: string | undefined, credentials: WebCredentials): boolean {
  if (!header) return false;
  const space = header.indexOf(' ');
  if (space < 0) return false;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer' && credentials.token !== undefined) return safeEqual(value, credentials.token);
  if (scheme === 'basic' && credentials.basic) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    // Both halves are always compared, so the time taken does not tell which one was wrong.
    const userOk = safeEqual(decoded.slice(0, colon), credentials.basic.user);
    const passwordOk = safeEqual(decoded.slice(colon + 1), credentials.basic.password);
    return userOk && passwordOk;
  }
  return false;
}

/** The WWW-Authenticate challenge of a 401: Basic when configured (browsers then prompt), else Bearer. */
export function challenge(credentials: WebCredentials): string {
  return credentials.basic ? `Basic realm="${REALM}", charset="UTF-8"` : `Bearer realm="${REALM}"`;
}

/** Hostname part of a Host header (`[::1]:8080` -> `[::1]`, `example:80` -> `example`). */
export function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) {
    const end = hostHeader.indexOf(']');
    return end < 0 ? hostHeader : hostHeader.slice(0, end + 1);
  }
  const colon = hostHeader.lastIndexOf(':');
  return colon < 0 ? hostHeader : hostHeader.slice(0, colon);
}

// Digests first: timingSafeEqual needs equal lengths, and comparing digests hides the length too.
function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
