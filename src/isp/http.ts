/**
 * The one connection pool to ISP (undici, keep-alive) and the raw request it offers the token
 * manager and the client. Owns transport concerns only: base path, timeout, TLS trust. Certificate
 * verification is always on; `caFile` adds trusted CAs to Node's built-in ones, it never replaces
 * or disables the check.
 */
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Pool } from 'undici';
import type { Config } from '../config/index.js';
import { IspConfigError } from './errors/index.js';
import type { Answer } from './outcome.js';
import { SplicedBody } from './record-text.js';

export interface HttpRequest {
  method: 'POST' | 'DELETE' | 'HEAD';
  /** Path relative to the base URL's path, e.g. `/park/entrance`. */
  path: string;
  headers: Record<string, string>;
  /** A SplicedBody is written piece by piece, with its length announced (record-text.ts). */
  body?: string | SplicedBody;
  /** Overrides the configured per-request timeout. */
  timeoutMs?: number;
}

/** Sends one request and returns the answer, or throws on transport failure (see transportReason). */
export type Send = (request: HttpRequest) => Promise<Answer>;

/** Largest answer body read; ISP answers are a few fields, anything larger is cut there. */
const MAX_ANSWER_BYTES = 64 * 1024;

export class IspHttp {
  private readonly pool: Pool;
  private readonly basePath: string;
  private readonly timeoutMs: number;

  constructor(isp: Pick<Config['isp'], 'baseUrl' | 'timeoutMs' | 'connections' | 'caFile'>) {
    let url: URL;
    try {
      url = new URL(isp.baseUrl);
    } catch {
      throw new IspConfigError(`isp.baseUrl: not a URL (${isp.baseUrl})`);
    }
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.timeoutMs = isp.timeoutMs;
    this.pool = new Pool(url.origin, {
      connections: isp.connections,
      keepAliveTimeout: 30_000,
      // Our own AbortSignal bounds the whole request; these only keep undici from outliving it.
      headersTimeout: isp.timeoutMs,
      bodyTimeout: isp.timeoutMs,
      connect: {
        timeout: Math.min(isp.timeoutMs, 10_000),
        ...(isp.caFile ? { ca: [...rootCertificates, readCa(isp.caFile)] } : {}),
      },
    });
  }

  readonly send: Send = async (request) => {
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    const spliced = request.body instanceof SplicedBody ? request.body : undefined;
    const res = await this.pool.request({
      method: request.method,
      path: this.basePath + request.path,
      headers: spliced ? { ...request.headers, 'content-length': String(spliced.bytes) } : request.headers,
      // undici writes any iterable body chunk by chunk (its types list streams only).
      body: (request.body ?? null) as string | Readable | null,
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const body = request.method === 'HEAD' ? '' : await readCapped(res.body);
    if (request.method === 'HEAD') await res.body.dump();
    const retryAfter = res.headers['retry-after'];
    return {
      status: res.statusCode,
      body,
      retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
    };
  };

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Reads at most MAX_ANSWER_BYTES and then drops the connection: an endless or huge answer (a
 * misconfigured proxy, a download page) must not be read on until the timeout, nor hold memory.
 */
async function readCapped(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    chunks.push(buf.subarray(0, MAX_ANSWER_BYTES - size));
    size += Math.min(buf.length, MAX_ANSWER_BYTES - size);
    if (size >= MAX_ANSWER_BYTES) {
      // Leaving the loop destroys the body; undici then closes the socket instead of reusing it.
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

function readCa(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new IspConfigError(
      `isp.caFile: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

/** Why a request failed before ISP answered, in words an operator can act on. */
export function transportReason(error: unknown, timeoutMs: number): string {
  const e = error as {
    name?: string;
    code?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (
    e?.name === 'TimeoutError' ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return `timeout: no answer from ISP within ${timeoutMs} ms`;
  }
  if (e?.code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout: could not connect to ISP';
  if (e?.code === 'UND_ERR_SOCKET')
    return `connection dropped by ISP before an answer (${e.message ?? 'socket closed'})`;
  const code = e?.code ?? e?.cause?.code;
  const message = e?.message ?? String(error);
  return `connection error${code ? ` ${code}` : ''}: ${message}`;
}
