/**
 * Cross-site request forgery guard for write requests (anything but GET/HEAD/OPTIONS), and the
 * DNS-rebinding guard of a dashboard served without credentials. A browser that cached Basic
 * credentials sends them to us from any page, so a write must prove it came from our own origin.
 * Pure functions over request headers; no I/O.
 */
import { hostnameOf, isLoopbackHost } from './auth.js';

export interface OriginHeaders {
  host?: string | undefined;
  origin?: string | undefined;
  referer?: string | undefined;
  'sec-fetch-site'?: string | undefined;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Writes must come from this origin: `Sec-Fetch-Site: same-origin`, else an Origin (or, lacking
 * one, a Referer) whose host:port is the Host header. A request with none of the three is not from
 * a browser (browsers send Origin with every non-GET request), so no forgery is possible and it
 * is let through: scripts with credentials keep working.
 */
export function writeOriginVerdict(method: string, headers: OriginHeaders): Verdict {
  if (SAFE_METHODS.has(method.toUpperCase())) return { ok: true };
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') {
    return { ok: false, reason: `cross-site write refused (Sec-Fetch-Site: ${site})` };
  }
  const source = headers.origin ?? headers.referer;
  if (source === undefined) return { ok: true };
  const from = hostOfUrl(source);
  if (from === undefined || !headers.host || from !== headers.host.toLowerCase()) {
    return { ok: false, reason: 'cross-site write refused: Origin does not match Host' };
  }
  return { ok: true };
}

/**
 * Without credentials the dashboard must only answer requests addressed to a loopback name, or a
 * web page could rebind its own hostname to 127.0.0.1 and read it.
 */
export function loopbackHostVerdict(hostHeader: string | undefined): Verdict {
  if (hostHeader && isLoopbackHost(hostnameOf(hostHeader))) return { ok: true };
  return {
    ok: false,
    reason:
      'this dashboard has no credentials and answers only at 127.0.0.1/localhost; set WEB_USER and WEB_PASSWORD or WEB_TOKEN to serve it under another name',
  };
}

function hostOfUrl(value: string): string | undefined {
  if (value === 'null') return undefined;
  try {
    return new URL(value).host.toLowerCase();
  } catch {
    return undefined;
  }
}
