/**
 * A record as the client sends it: its JSON text, or, for a record carrying a photo, its JSON as
 * bytes (`RecordBytes`), made once by the pipeline and handed to the socket as they are.
 *
 * Why: a photo record is ~300 KB of Base64 next to a few hundred bytes of payload. Kept as one
 * string it was copied four times (Base64 text, JSON-quoted, joined with the payload, which turned
 * it into a two-byte string when a plate was Chinese, then the body, then its UTF-8 bytes), and each
 * copy of that size is fresh memory the kernel has to map. As bytes it is written once, into memory
 * the pipeline reuses (src/transform/photo/buffers.ts), and no whole body is ever built: each record
 * goes to the socket in one write, its separator (`[` or `,`) put in the spare byte before it. Pure.
 */

/** A record's JSON (UTF-8) in `framed[1..]`; `framed[0]` is spare: the body puts the separator there. */
export interface RecordBytes {
  framed: Buffer;
}

export type RecordText = string | RecordBytes;

/** UTF-8 bytes of a record text (exact). */
export function recordBytes(text: RecordText): number {
  return typeof text === 'string' ? Buffer.byteLength(text) : text.framed.length - 1;
}

/** The record's JSON as one string (dry-run output, tests): the copy the wire path avoids. */
export function recordString(text: RecordText): string {
  return typeof text === 'string' ? text : text.framed.toString('utf8', 1);
}

/**
 * A request body with photos, handed to the socket record by record as it is iterated (no copy of
 * the whole body, 8 MB of fresh memory for every request, is made). Iterable again for a retry. The
 * records' memory must stay untouched until the request is answered: undici drops the connection
 * when an answer comes before the body has been handed over, and otherwise the body has reached the
 * kernel before the server read it.
 */
export class SplicedBody implements Iterable<string | Buffer> {
  readonly bytes: number;

  constructor(
    private readonly texts: readonly RecordText[],
    private readonly open: string,
    private readonly close: string,
    private readonly sep: string,
  ) {
    let size =
      Buffer.byteLength(open) + Buffer.byteLength(close) + Buffer.byteLength(sep) * (texts.length - 1);
    for (const t of texts) size += recordBytes(t);
    this.bytes = size;
  }

  *[Symbol.iterator](): Generator<string | Buffer> {
    // Texts run together until the next record in bytes.
    let pending = '';
    for (const [i, t] of this.texts.entries()) {
      const lead = i === 0 ? this.open : this.sep;
      if (typeof t === 'string') {
        pending += lead + t;
        continue;
      }
      if (pending === '' && lead.length === 1 && lead.charCodeAt(0) < 0x80) {
        t.framed[0] = lead.charCodeAt(0);
        yield t.framed;
      } else {
        yield pending + lead;
        yield t.framed.subarray(1);
      }
      pending = '';
    }
    yield pending + this.close;
  }

  /** The whole body in one Buffer (tests, diagnostics). */
  toBuffer(): Buffer {
    return Buffer.concat([...this].map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
  }
}

/**
 * The body `open + texts.join(sep) + close`: a string when every text is one (records without
 * photos: V8 joins them at memory speed), else a SplicedBody.
 */
export function buildBody(texts: readonly string[], open: string, close: string, sep: string): string;
export function buildBody(
  texts: readonly RecordText[],
  open: string,
  close: string,
  sep: string,
): string | SplicedBody;
export function buildBody(
  texts: readonly RecordText[],
  open: string,
  close: string,
  sep: string,
): string | SplicedBody {
  if (texts.every((t) => typeof t === 'string')) return open + (texts as string[]).join(sep) + close;
  return new SplicedBody(texts, open, close, sep);
}
