/**
 * Long by design: the four photo sources share one set of refusals and one outcome type, and the
 * file reads' per-root bounds (and what they report of a hung share) belong with the reads they
 * bound.
 *
 * Reads a photo's bytes from where the vendor keeps it: a BLOB (Buffer), a file path under
 * photo.fileRoot, an http(s) URL on photo.urlAllowHosts, or stored Base64 / a data URI. This is the
 * one I/O part of the transforms. A vendor row must not be able to make us read or fetch anything
 * else: paths are resolved and realpath'd inside the root (symlinks out refused), URLs are checked
 * against the allow-list before every request including each redirect hop, and sizes are capped
 * while reading. Only regular files are read (a FIFO or device would block or never end), and a
 * file read has a deadline (a hung network mount must not hold its batch forever). Never throws for bad data: returns an outcome with a message fit for an operator
 * (no query strings or credentials from URLs).
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { Agent, type Dispatcher, request } from 'undici';
import type { Config } from '../../config/index.js';
import { photoFileReadsStuck } from '../../metrics.js';
import type { PhotoBuffers } from './buffers.js';

export type PhotoConfig = Config['photo'];
export type PhotoSource = 'blob' | 'file' | 'url' | 'base64';

export type PhotoInput =
  | { ok: true; bytes: Buffer }
  | {
      ok: false;
      outcome: 'missing' | 'corrupt' | 'refused';
      message: string;
      /** A later attempt may succeed (timeout, 5xx, connection refused): the caller may retry. */
      retryable: boolean;
    };

export interface LoadPhotoOptions {
  /** undici dispatcher for URL photos (default: undici's global one; the worker's: createPhotoDispatcher). */
  dispatcher?: Dispatcher;
  /** Where file and URL photos are read into (the caller gives each back once it is sent). */
  buffers?: PhotoBuffers;
}

/**
 * The dispatcher URL photos are fetched through: keep-alive connections reused across photos (a
 * camera server is asked for thousands of frames; a TLS or TCP handshake per photo would cost more
 * than the frame), at most `photo.fetchConcurrency` connections per host, and every phase bounded
 * by photo.urlTimeoutMs (connect, headers, body) besides the whole-request deadline. One per
 * process (the Runtime's), closed with it.
 */
export function createPhotoDispatcher(photo: Pick<PhotoConfig, 'fetchConcurrency' | 'urlTimeoutMs'>): Agent {
  return new Agent({
    connections: photo.fetchConcurrency,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: photo.urlTimeoutMs,
    bodyTimeout: photo.urlTimeoutMs,
    connect: { timeout: photo.urlTimeoutMs },
  });
}

/** Redirect hops followed (each one checked against the allow-list). */
const MAX_REDIRECTS = 3;

function fail(outcome: 'missing' | 'corrupt' | 'refused', message: string, retryable = false): PhotoInput {
  return { ok: false, outcome, message, retryable };
}

function asText(raw: Buffer | string): string {
  return (Buffer.isBuffer(raw) ? raw.toString('utf8') : raw).trim();
}

export async function loadPhoto(
  raw: Buffer | string | null | undefined,
  source: PhotoSource,
  photo: PhotoConfig,
  options: LoadPhotoOptions = {},
): Promise<PhotoInput> {
  if (raw === null || raw === undefined) return fail('missing', 'no photo (NULL)');
  switch (source) {
    case 'blob':
      return fromBlob(raw, photo);
    case 'base64':
      return fromBase64(raw, photo);
    case 'file':
      return fromFile(raw, photo, options.buffers);
    case 'url':
      return fromUrl(raw, photo, options.dispatcher, options.buffers);
  }
}

function fromBlob(raw: Buffer | string, photo: PhotoConfig): PhotoInput {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'latin1');
  if (bytes.length === 0) return fail('missing', 'no photo (empty BLOB)');
  if (bytes.length > photo.maxInputBytes) {
    return fail(
      'refused',
      `photo BLOB of ${bytes.length} bytes exceeds photo.maxInputBytes (${photo.maxInputBytes})`,
    );
  }
  return { ok: true, bytes };
}

function fromBase64(raw: Buffer | string, photo: PhotoConfig): PhotoInput {
  let text = Buffer.isBuffer(raw) ? raw.toString('latin1').trim() : raw.trim();
  if (text === '') return fail('missing', 'no photo (empty text)');
  const dataUri = /^data:([^,]*?),/i.exec(text);
  if (dataUri) {
    if (!/;base64$/i.test(dataUri[1] ?? '')) return fail('corrupt', 'photo data URI is not Base64');
    text = text.slice(dataUri[0].length);
  }
  text = text.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
  if (text === '') return fail('missing', 'no photo (empty data URI)');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return fail('corrupt', 'photo text is not Base64');
  if (Math.floor((text.length * 3) / 4) > photo.maxInputBytes) {
    return fail('refused', `photo Base64 decodes to more than photo.maxInputBytes (${photo.maxInputBytes})`);
  }
  return { ok: true, bytes: Buffer.from(text, 'base64') };
}

/**
 * photo.fileRoot resolved (realpath), kept per root: it is asked for every photo and changes only
 * when an operator re-points a mount or symlink. `fresh` resolves it again (and keeps the answer).
 */
const realRoots = new Map<string, string>();
async function realRootOf(root: string, fresh = false): Promise<string> {
  const known = fresh ? undefined : realRoots.get(root);
  if (known !== undefined) return known;
  const real = await realpath(root);
  realRoots.set(root, real);
  return real;
}

function rootUnreadable(root: string, error: NodeJS.ErrnoException): PhotoInput {
  return fail('missing', `photo.fileRoot ${root} is not readable (${error.code})`, true);
}

function isWithin(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * File reads at once per photo root (photo.fileRoot as given, resolved). Each read's file calls
 * run on libuv's thread pool, which the whole process shares (other sources' photo files, sharp's
 * decoding, DNS lookups for ISP): a share that stops answering holds a thread per call stuck in it,
 * and cannot be made to let go. Two at a time per root bound what one hung share can take.
 */
export const FILE_READS_PER_ROOT = 2;

/** A photo root's file reads whose calls have not returned: running, and given up on among them. */
interface RootReads {
  running: number;
  /** Past photo.fileTimeoutMs and still in a file call: a thread held until the share answers. */
  stuck: number;
  stuckSince: number | undefined;
  waiting: Array<() => void>;
}
const readsByRoot = new Map<string, RootReads>();

/** What a photo root's reads hold now (status, tests). */
export function photoFileReads(fileRoot: string): { running: number; stuck: number; stuckSince?: number } {
  const reads = readsByRoot.get(resolve(fileRoot));
  if (!reads) return { running: 0, stuck: 0 };
  return {
    running: reads.running,
    stuck: reads.stuck,
    ...(reads.stuckSince !== undefined ? { stuckSince: reads.stuckSince } : {}),
  };
}

/** For how long a root's reads have been stuck, whole seconds. */
function stuckSeconds(reads: { stuckSince?: number | undefined }): number {
  return Math.round((Date.now() - (reads.stuckSince ?? Date.now())) / 1000);
}

/**
 * Why the photo share of `photo.fileRoot` is not read now (reads stuck past photo.fileTimeoutMs),
 * or undefined: for /readyz, where a hung share shows before its photos are missed one by one.
 */
export function photoShareProblem(
  photo: Pick<PhotoConfig, 'fileRoot' | 'fileTimeoutMs'>,
): string | undefined {
  if (!photo.fileRoot) return undefined;
  const reads = photoFileReads(photo.fileRoot);
  if (reads.stuck === 0) return undefined;
  return (
    `photo.fileRoot ${resolve(photo.fileRoot)}: ${reads.stuck} file read(s) have not returned for ${stuckSeconds(reads)} s ` +
    `(photo.fileTimeoutMs ${photo.fileTimeoutMs}); its photos go without, retried, until the share answers. ` +
    'Check the mount (a hung NFS or SMB share)'
  );
}

/** Sets `source`'s isp_sync_photo_file_reads_stuck from its photo.fileRoot (0 without one). */
export function showPhotoFileReads(source: string, photo: Pick<PhotoConfig, 'fileRoot'>): void {
  photoFileReadsStuck.set({ source }, photo.fileRoot ? photoFileReads(photo.fileRoot).stuck : 0);
}

async function fromFile(
  raw: Buffer | string,
  photo: PhotoConfig,
  buffers?: PhotoBuffers,
): Promise<PhotoInput> {
  if (!photo.fileRoot) return fail('refused', 'photo source is file but photo.fileRoot is not set');
  const text = asText(raw).replace(/\\/g, '/');
  const root = resolve(photo.fileRoot);
  let reads = readsByRoot.get(root);
  if (!reads) {
    reads = { running: 0, stuck: 0, stuckSince: undefined, waiting: [] };
    readsByRoot.set(root, reads);
  }
  const own = reads;
  // A share with a read still stuck gets no new one: it would only hold another thread.
  if (own.stuck > 0) {
    return fail(
      'missing',
      `photo.fileRoot ${root} has ${own.stuck} file read(s) that have not returned for ${stuckSeconds(own)} s ` +
        '(past photo.fileTimeoutMs); no new read starts there until they do. Is the photo share mounted and responding?',
      true,
    );
  }
  let gaveUp = false;
  let started = false;
  const release = () => {
    const next = own.waiting.shift();
    if (next) next();
    else own.running--;
  };
  const work = (async () => {
    if (own.running < FILE_READS_PER_ROOT) own.running++;
    else await new Promise<void>((resolve) => own.waiting.push(resolve));
    if (gaveUp) {
      release();
      return undefined;
    }
    started = true;
    try {
      return await readPhotoFile(raw, photo, buffers);
    } finally {
      release();
    }
  })();
  // The file calls cannot be cancelled: on a hung mount they hold a libuv thread until the mount
  // answers. We stop waiting; the read is counted as stuck until its calls return (the work
  // closes its own handle if it ever gets one).
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), photo.fileTimeoutMs);
  });
  try {
    const input = await Promise.race([work, deadline]);
    if (input) return input;
  } finally {
    clearTimeout(timer);
  }
  gaveUp = true;
  if (started) {
    if (own.stuck++ === 0) own.stuckSince = Date.now();
    const returned = () => {
      if (--own.stuck === 0) own.stuckSince = undefined;
    };
    work.then(returned, returned);
  }
  return fail(
    'missing',
    `photo file "${text}" did not answer within ${photo.fileTimeoutMs} ms (photo.fileTimeoutMs); ` +
      'is the photo share mounted and responding?',
    true,
  );
}

async function readPhotoFile(
  raw: Buffer | string,
  photo: PhotoConfig,
  buffers?: PhotoBuffers,
): Promise<PhotoInput> {
  if (!photo.fileRoot) return fail('refused', 'photo source is file but photo.fileRoot is not set');
  // Vendors on Windows store backslashes; the share is mounted here with forward slashes.
  const text = asText(raw).replace(/\\/g, '/');
  if (text === '') return fail('missing', 'no photo (empty path)');
  if (text.includes('\0')) return fail('refused', 'photo path contains a NUL byte');
  const root = resolve(photo.fileRoot);
  const candidate = isAbsolute(text) ? resolve(text) : resolve(root, text);
  if (!isWithin(root, candidate)) return fail('refused', `photo path "${text}" is outside photo.fileRoot`);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (error) {
    // The root itself gone (a share unmounted) is worth a retry; a file missing under it is not.
    const rootError = await realRootOf(root, true).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    if (rootError) return rootUnreadable(root, rootError);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      return fail('missing', `photo file "${text}" does not exist`);
    return fail('refused', `photo file "${text}" cannot be resolved (${code})`);
  }
  let realRoot: string;
  try {
    realRoot = await realRootOf(root);
    // Refused only against the root as it resolves now (it may have been re-pointed since cached).
    if (!isWithin(realRoot, real)) realRoot = await realRootOf(root, true);
  } catch (error) {
    return rootUnreadable(root, error as NodeJS.ErrnoException);
  }
  if (!isWithin(realRoot, real))
    return fail('refused', `photo path "${text}" leads outside photo.fileRoot (symlink)`);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    // Every file call is a round trip through libuv's pool, ~40 µs of CPU each on a small VM (more
    // than reading the photo): the kind of file is checked after open, not by a stat before it.
    // O_NOFOLLOW: the resolved path must not have become a symlink since realpath. O_NONBLOCK: a
    // FIFO opens at once instead of waiting for a writer (no effect on regular files), and the
    // fstat below refuses it as any other non-regular file. O_NOCTTY: a terminal device opened
    // by mistake does not become ours.
    handle = await open(
      real,
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY,
    );
    const stat = await handle.stat();
    if (!stat.isFile()) return fail('refused', `photo path "${text}" is not a regular file`);
    if (stat.size > photo.maxInputBytes) {
      return fail(
        'refused',
        `photo file "${text}" of ${stat.size} bytes exceeds photo.maxInputBytes (${photo.maxInputBytes})`,
      );
    }
    const bytes = buffers?.take(stat.size) ?? Buffer.allocUnsafe(stat.size);
    let read = 0;
    try {
      while (read < stat.size) {
        const { bytesRead } = await handle.read(bytes, read, stat.size - read, read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
    } catch (error) {
      buffers?.give(bytes);
      throw error;
    }
    return { ok: true, bytes: bytes.subarray(0, read) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('missing', `photo file "${text}" does not exist`);
    if (code === 'ELOOP') return fail('refused', `photo path "${text}" is a symlink`);
    return fail('missing', `photo file "${text}" cannot be read (${code ?? (error as Error).message})`, true);
  } finally {
    await handle?.close();
  }
}

/** Host (and port) of a URL without credentials, query or fragment: safe for messages and logs. */
function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function hostAllowed(url: URL, allowed: Set<string>): boolean {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  return allowed.has(url.hostname.toLowerCase()) || allowed.has(url.host.toLowerCase());
}

async function fromUrl(
  raw: Buffer | string,
  photo: PhotoConfig,
  dispatcher?: Dispatcher,
  buffers?: PhotoBuffers,
): Promise<PhotoInput> {
  const text = asText(raw);
  if (text === '') return fail('missing', 'no photo (empty URL)');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('refused', 'photo URL is not a valid absolute URL');
  }
  const allowed = new Set(photo.urlAllowHosts.map((h) => h.trim().toLowerCase()));
  const signal = AbortSignal.timeout(photo.urlTimeoutMs);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (!hostAllowed(url, allowed)) {
      return fail(
        'refused',
        `photo URL ${hop === 0 ? '' : `(redirected to) `}${shown(url)} is not on photo.urlAllowHosts`,
      );
    }
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: 'GET',
        signal,
        headersTimeout: photo.urlTimeoutMs,
        bodyTimeout: photo.urlTimeoutMs,
        ...(dispatcher ? { dispatcher } : {}),
      });
    } catch (error) {
      return networkFailure(error, url, photo);
    }
    const { statusCode, headers, body } = response;
    if (statusCode >= 300 && statusCode < 400 && statusCode !== 304) {
      discard(body);
      const location = headers.location;
      const next = Array.isArray(location) ? location[0] : location;
      if (!next) return fail('missing', `photo URL ${shown(url)} answered ${statusCode} without a Location`);
      try {
        url = new URL(next, url);
      } catch {
        return fail('refused', `photo URL ${shown(url)} redirects to an invalid URL`);
      }
      continue;
    }
    if (statusCode < 200 || statusCode >= 300) {
      discard(body);
      return fail(
        'missing',
        `photo URL ${shown(url)} answered HTTP ${statusCode}`,
        statusCode >= 500 || statusCode === 429,
      );
    }
    const declared = Number(headers['content-length']);
    if (Number.isFinite(declared) && declared > photo.maxInputBytes) {
      discard(body);
      return fail(
        'refused',
        `photo URL ${shown(url)} declares ${declared} bytes, over photo.maxInputBytes (${photo.maxInputBytes})`,
      );
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of body) {
        total += (chunk as Buffer).length;
        if (total > photo.maxInputBytes) {
          discard(body);
          return fail(
            'refused',
            `photo URL ${shown(url)} sent more than photo.maxInputBytes (${photo.maxInputBytes}); cut`,
          );
        }
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      return networkFailure(error, url, photo);
    }
    if (total === 0) return fail('missing', `photo URL ${shown(url)} sent an empty body`);
    const bytes = buffers?.take(total) ?? Buffer.allocUnsafe(total);
    let at = 0;
    for (const chunk of chunks) at += chunk.copy(bytes, at);
    return { ok: true, bytes };
  }
  return fail('refused', `photo URL redirected more than ${MAX_REDIRECTS} times`);
}

/** Drops a response body we will not read; its abort error is expected, not unhandled. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

function networkFailure(error: unknown, url: URL, photo: PhotoConfig): PhotoInput {
  const err = error as Error & { code?: string };
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || /Timeout/.test(err.code ?? '')) {
    return fail('missing', `photo URL ${shown(url)} timed out after ${photo.urlTimeoutMs} ms`, true);
  }
  return fail('missing', `photo URL ${shown(url)} failed: ${err.code ?? err.message}`, true);
}
