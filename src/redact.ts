/** Makes a value safe to show: passwords in URLs, tokens and Base64 photos are replaced. */

const PHOTO_MIN_LENGTH = 200;

/**
 * `mysql://user:secret@host/db` -> `mysql://user:***@host/db`, whatever the password holds.
 *
 * A password written raw (not percent-encoded) may contain `@`, `:`, `/`, `#`, `%`, so no URL parser
 * can be trusted to find where it ends. The user info is taken to end at the *last* `@` (URL
 * parsers agree: an `@` in the password is part of it), and everything from the first `:` after
 * the user to there is replaced. A string that starts with a scheme is taken as one URL, so that
 * covers any character, spaces included; a URL quoted inside other text ends at the first space or
 * quote. A path with an `@` in it may lose its host to the mask as well: too much hidden rather
 * than a password shown.
 */
export function redactUrl(text: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return maskUserInfo(text);
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*/gi, maskUserInfo);
}

function maskUserInfo(url: string): string {
  const start = url.indexOf('//') + 2;
  const at = url.lastIndexOf('@');
  if (at < start) return url;
  const colon = url.indexOf(':', start);
  if (colon === -1 || colon > at) return url;
  return `${url.slice(0, colon)}:***${url.slice(at)}`;
}

/** The password of a URL as written and decoded, found the same way `redactUrl` finds it. */
export function urlPasswords(url: string): string[] {
  const start = url.indexOf('//') + 2;
  const at = url.lastIndexOf('@');
  const colon = url.indexOf(':', start);
  if (start < 2 || at < start || colon === -1 || colon > at) return [];
  const raw = url.slice(colon + 1, at);
  if (raw === '') return [];
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // A raw `%` that is not an escape: the password is what was written.
  }
  return [...new Set([raw, decoded])];
}

/**
 * Keys whose value is a secret: passwords, client secrets, authorization headers, and a token
 * itself (`token`, `accessToken`, `access_token`), not every key that mentions one (`tokenPath`).
 */
const SECRET_KEY = /secret|password|authorization|^(access_?)?token$/i;

/** Deep copy with photos shortened and secret-looking keys replaced; for dashboards and dry runs. */
export function redactForDisplay(value: unknown): unknown {
  if (typeof value === 'string') {
    if (value.length >= PHOTO_MIN_LENGTH && /^(data:image\/[a-z]+;base64,)?[A-Za-z0-9+/=]+$/.test(value)) {
      return `${value.slice(0, 40)}… [photo, ${value.length} bytes]`;
    }
    return redactUrl(value);
  }
  if (Array.isArray(value)) return value.map(redactForDisplay);
  if (value && typeof value === 'object') {
    if (Buffer.isBuffer(value)) return `[binary, ${value.length} bytes]`;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) ? '[redacted]' : redactForDisplay(v);
    }
    return out;
  }
  return value;
}
