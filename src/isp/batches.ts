/**
 * Splits what a caller hands the client into request bodies bounded by record count and body bytes
 * (open point 11). Pure: each record is serialized once and the bodies are built from those texts.
 * A record larger than `maxBytes` on its own is its own part (ISP decides on it; never dropped).
 */
import { buildBody, type RecordText, recordBytes, type SplicedBody } from './record-text.js';

export interface BatchLimits {
  /** Records per request. */
  maxItems: number;
  /** Bytes per request body (UTF-8). */
  maxBytes: number;
}

/** Texts up to this many UTF-16 units are sized by the bound below, not counted. */
const SHORT_TEXT = 2_048;

/**
 * Bytes to reserve for a text in a body: its UTF-8 length, or for a short text the upper bound of
 * 3 bytes per UTF-16 unit. Counting is a scan of the whole (usually two-byte: Chinese plates and
 * lot names) string for every record; a batch of short records (≤ 6 KB each by the bound) stays far
 * below the body limit either way, while a photo-carrying record is long and counted exactly.
 */
export function utf8Bound(text: RecordText): number {
  if (typeof text !== 'string') return recordBytes(text);
  return text.length <= SHORT_TEXT ? text.length * 3 : Buffer.byteLength(text);
}

/** A request body for records [start, end) of the input. */
export interface BatchBody<Body extends string | SplicedBody = string | SplicedBody> {
  start: number;
  end: number;
  /** A string, or a SplicedBody when a record carries a photo (src/isp/record-text.ts). */
  body: Body;
  bytes: number;
}

/** JSON-array bodies (`[r0,r1,...]`) for the POST endpoints. */
export function splitBatches(records: readonly unknown[], limits: BatchLimits): BatchBody<string>[] {
  return splitSerialized(
    records.map((record) => JSON.stringify(record)),
    limits,
  );
}

/**
 * The same from records already serialized (the pipeline sizes its batches with these texts), with
 * their sizes when the caller has them already (UTF-8 lengths, or `utf8Bound`s).
 */
export function splitSerialized(
  texts: readonly string[],
  limits: BatchLimits,
  bytes?: readonly number[],
): BatchBody<string>[];
export function splitSerialized(
  texts: readonly RecordText[],
  limits: BatchLimits,
  bytes?: readonly number[],
): BatchBody[];
export function splitSerialized(
  texts: readonly RecordText[],
  limits: BatchLimits,
  bytes?: readonly number[],
): BatchBody[] {
  return pack(texts, limits, '[', ']', ',', bytes);
}

/** `{"park_code":"A,B"}` bodies for DELETE /park/spot (spec §4); codes must not contain ",". */
export function splitParkCodes(codes: readonly string[], limits: BatchLimits): BatchBody<string>[] {
  // Each code inside the JSON string literal: JSON.stringify without its quotes.
  const texts = codes.map((code) => JSON.stringify(code).slice(1, -1));
  return pack(texts, limits, '{"park_code":"', '"}', ',') as BatchBody<string>[];
}

function pack(
  texts: readonly RecordText[],
  limits: BatchLimits,
  open: string,
  close: string,
  sep: string,
  sizes?: readonly number[],
): BatchBody[] {
  const frame = Buffer.byteLength(open) + Buffer.byteLength(close);
  const sepBytes = Buffer.byteLength(sep);
  const parts: BatchBody[] = [];
  let start = 0;
  let bytes = frame;
  const flush = (end: number) => {
    parts.push({ start, end, body: buildBody(texts.slice(start, end), open, close, sep), bytes });
    start = end;
    bytes = frame;
  };
  for (let i = 0; i < texts.length; i++) {
    const size = sizes?.[i] ?? recordBytes(texts[i]!);
    const count = i - start;
    const added = count === 0 ? size : size + sepBytes;
    if (count > 0 && (count >= limits.maxItems || bytes + added > limits.maxBytes)) {
      flush(i);
      bytes += size;
    } else {
      bytes += added;
    }
  }
  if (start < texts.length) flush(texts.length);
  return parts;
}
