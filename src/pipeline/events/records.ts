/**
 * A push record: one event as it travels from the poll to ISP. Its payload is serialized once when
 * the row is read; the photo is attached only at push time (`withPhoto`, `withPhotoBytes`), never
 * stored in Redis.
 */
import type { RecordBytes } from '../../isp/index.js';
import { base64Into, base64Length } from '../../transform/photo/index.js';

export interface EventRecord {
  /** Ledger key: the natural key (src/isp-spec/natural-keys.ts) plus the vendor row id. */
  key: string;
  /** Event time, Unix seconds (ledger slice, per-lot progress). */
  time: number;
  /** Vendor row id: photos are fetched by it at push time. */
  vendorKey: string;
  /** The lot's code (per-lot progress, the failed-set view). */
  lot: string;
  /**
   * The payload without its photo field, serialized once when the row is read. A push job carries
   * it as text, so the pusher neither parses it into objects nor serializes it again (that round
   * trip through the job's JSON cost ~1.5 µs a record more than carrying the text).
   */
  payload: string;
}

/**
 * The event a record must not overtake at ISP (a departure's entrance): its natural key and time,
 * and its vendor id when the row names it.
 */
export interface Precedent {
  key: string;
  /** Unix seconds. */
  time: number;
  vendorKey?: string;
}

/**
 * What a vendor row of an event stream became: a push record, or the reasons it cannot be one.
 * `precedent`: the event it follows, when the row names it (departures with an entrance time).
 */
export type RowOutcome =
  | { ok: true; record: EventRecord; precedent?: Precedent }
  | { ok: false; reasons: Array<{ code: string; message: string }> };

/**
 * The ledger key: the spec's natural key (open point 10) plus the vendor row id. The natural key
 * alone collides for two no-plate cars entering a lot in the same second; the row id keeps those
 * apart while a re-read of the same row still finds its key.
 */
export function ledgerKey(naturalKey: string, vendorKey: string): string {
  return `${naturalKey}#${vendorKey}`;
}

/**
 * The natural key inside a ledger key (`ledgerKey(natural, vendorKey)`): cut at the given vendor
 * key, or at the last `#` when the caller does not know it.
 */
export function naturalKeyOf(key: string, vendorKey?: string): string {
  if (vendorKey !== undefined) {
    const tail = `#${vendorKey}`;
    return key.endsWith(tail) ? key.slice(0, -tail.length) : key;
  }
  const at = key.lastIndexOf('#');
  return at < 0 ? key : key.slice(0, at);
}

/** The push record of a transformed event (its payload serialized here, once). */
export function eventRecord(
  draft: { readonly park_code?: unknown },
  naturalKey: string,
  vendorKey: string,
  time: number,
): EventRecord {
  return {
    key: ledgerKey(naturalKey, vendorKey),
    time,
    vendorKey,
    lot: String(draft.park_code),
    payload: JSON.stringify(draft),
  };
}

/** `"enter_pic":""}` and the like, per field: most records of a stream without photos. */
const emptyTails = new Map<string, string>();

/** The wire text of a record: its payload with the photo field appended. */
export function withPhoto(payload: string, field: string, value: string): string {
  let tail = value === '' ? emptyTails.get(field) : undefined;
  if (tail === undefined) {
    tail = `${JSON.stringify(field)}:${JSON.stringify(value)}}`;
    if (value === '') emptyTails.set(field, tail);
  }
  return payload === '{}' ? `{${tail}` : `${payload.slice(0, -1)},${tail}`;
}

/**
 * The wire text of a record carrying a photo: its payload with the photo field appended, as bytes
 * in memory from `take` (src/isp/record-text.ts: one spare byte first), the JPEG's Base64 written
 * straight into it. Same JSON as `withPhoto(payload, field, prefix + base64(jpeg))`.
 */
export function withPhotoBytes(
  payload: string,
  field: string,
  prefix: string,
  jpeg: Buffer,
  take: (size: number) => Buffer = Buffer.allocUnsafe,
): RecordBytes {
  // The prefix as a JSON string literal without its closing quote: the Base64 continues it.
  const open = `${JSON.stringify(field)}:${JSON.stringify(prefix).slice(0, -1)}`;
  const head = payload === '{}' ? `{${open}` : `${payload.slice(0, -1)},${open}`;
  const headBytes = Buffer.byteLength(head);
  const framed = take(1 + headBytes + base64Length(jpeg.length) + 2);
  framed.write(head, 1);
  const end = base64Into(jpeg, framed, 1 + headBytes);
  framed.write('"}', end, 'latin1');
  return { framed };
}
