/** Makes a value safe to show: passwords in URLs, tokens and Base64 photos are replaced. */

const PHOTO_MIN_LENGTH = 200;

/** `mysql://user:secret@host/db` -> `mysql://user:***@host/db`. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^/:@]*):[^/@]*@/, '$1:***@');
}

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
      out[key] = /secret|password|token|authorization/i.test(key) ? '[redacted]' : redactForDisplay(v);
    }
    return out;
  }
  return value;
}
