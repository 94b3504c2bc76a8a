/**
 * What keeps photos and secrets out of every dashboard response. Two layers:
 * - `redactDeep`: job data, errors and status facts pass through src/redact.ts (Base64 photos
 *   shortened, secret-looking fields and URL passwords replaced), keeping the shape of the value;
 * - `createScrubber`: the last step before any body leaves, replacing the literal values of the
 *   configured secrets (ISP, database, Redis, dashboard; of every source), in case one slipped
 *   into an error text.
 * The rules of what looks secret live in src/redact.ts; this module only applies them.
 */
import { type Config, ENV_VARS } from '../config/index.js';
import { redactForDisplay, urlPasswords } from '../redact.js';

/** Secrets shorter than this are not scrubbed by value (it would mangle ordinary text). */
const MIN_SCRUB_LENGTH = 4;
export const SCRUBBED = '[redacted]';

/**
 * Deep copy for display: strings through redactForDisplay (photos, URL passwords); a field whose
 * name looks secret loses its value when that value is a scalar (an object under such a name, like
 * the status `token: {valid, expiresAt}`, keeps its shape and is redacted field by field).
 */
export function redactDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactDeep);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = isPlainObject(v) || Array.isArray(v) ? redactDeep(v) : redactField(key, v);
    }
    return out;
  }
  return typeof value === 'string' ? redactEmbeddedPhotos(redactForDisplay(value)) : redactForDisplay(value);
}

// redactForDisplay shortens a string that *is* a photo; an error text can also quote one inside
// (e.g. a rejected record echoed in a message).
const EMBEDDED_PHOTO = /(data:image\/[a-z]+;base64,)?[A-Za-z0-9+/]{200,}={0,2}/g;

function redactEmbeddedPhotos(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  return text.replace(EMBEDDED_PHOTO, (photo) => `${photo.slice(0, 40)}… [photo, ${photo.length} bytes]`);
}

function redactField(key: string, value: unknown): unknown {
  // The one rule for secret-looking names lives in redact.ts: ask it about this single field.
  return redactEmbeddedPhotos((redactForDisplay({ [key]: value }) as Record<string, unknown>)[key]);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/**
 * The configured secret values: the value of every variable marked secret in env.ts (passwords,
 * tokens, client secrets; not user names, which appear in ordinary text such as the dashboard's
 * own links), and the passwords inside URLs.
 */
export function secretValues(config: Config): string[] {
  const out = new Set<string>();
  for (const v of ENV_VARS) {
    if (!v.secret) continue;
    const value = getPath(config, v.key);
    if (typeof value !== 'string' || value === '') continue;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      if (v.wholeUrlSecret) for (const part of [value, ...queryValues(value)]) out.add(part);
      for (const part of urlSecrets(value)) out.add(part);
    } else {
      out.add(value);
    }
  }
  return [...out].filter((s) => s.length >= MIN_SCRUB_LENGTH);
}

/** The values of a URL's query (a robot's `key=` or `access_token=`), shown alone in some errors. */
function queryValues(url: string): string[] {
  try {
    return [...new URL(url).searchParams.values()];
  } catch {
    return [];
  }
}

function urlSecrets(url: string): string[] {
  // Found as redactUrl finds it (not with URL, which stops at a raw `/` or `#` in a password).
  const found = urlPasswords(url);
  try {
    const password = new URL(url).password;
    if (password) found.push(password, decodeURIComponent(password));
  } catch {
    // Not parseable as a URL: what urlPasswords found is all there is.
  }
  return found;
}

/**
 * Replaces each secret in a response body as written raw, JSON-escaped and HTML-escaped (a secret
 * with a quote in it appears escaped in JSON and HTML). Longest first, so a secret that contains
 * another is replaced whole.
 */
export function createScrubber(secrets: string[]): (text: string) => string {
  const forms = new Set<string>();
  for (const s of secrets) {
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
    forms.add(escapeHtml(s));
  }
  const ordered = [...forms].filter((f) => f.length >= MIN_SCRUB_LENGTH).sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  const pattern = new RegExp(ordered.map(escapeRegExp).join('|'), 'g');
  return (text) => text.replace(pattern, SCRUBBED);
}

/**
 * A scrubber whose secrets can be added to, never taken from: a process whose sources come and go
 * keeps scrubbing the secrets of one removed (its texts may still be shown, in its failed jobs or
 * an error). The pattern is built again only when a secret is new.
 */
export function growingScrubber(): { add(secrets: Iterable<string>): void; scrub(text: string): string } {
  const known = new Set<string>();
  let scrub = createScrubber([]);
  return {
    add(secrets) {
      const before = known.size;
      for (const s of secrets) known.add(s);
      if (known.size !== before) scrub = createScrubber([...known]);
    },
    scrub: (text) => scrub(text),
  };
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function getPath(tree: unknown, key: string): unknown {
  let node = tree;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
