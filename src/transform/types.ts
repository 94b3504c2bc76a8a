/**
 * The result types every transform returns: a payload with warnings, or the quarantine reasons why
 * the row cannot become a valid payload. Transforms never throw for bad data; they return these.
 * Owns no logic beyond tiny constructors.
 */
import type { Departure, Entrance } from '../isp-spec/index.js';

/** Sent anyway, but counted (metrics.transformWarnings{stream,kind}) so an operator can act. */
export type WarningKind =
  | 'unknown-car-type'
  | 'unknown-pay-type'
  | 'missing-car-type'
  | 'missing-pay-type'
  | 'invalid-plate'
  | 'no-plate'
  | 'rounded-money'
  | 'no-coordinates'
  /** A lot's pair outside China (as read or after conversion): the lot is sent without it. */
  | 'coordinates-out-of-china'
  /** A pair in China only swapped: sent without it (or, opted in, as the next kind). */
  | 'coordinates-swapped'
  | 'coordinates-swapped-back'
  /** More spaces used than the lot has (it happens): sent with remain 0. */
  | 'overfull-lot';

export interface Warning {
  kind: WarningKind;
  /** Canonical field name (`carType`, `plateNumber`, ...). */
  field: string;
  /** The vendor value as text (what to add to a dictionary, the plate that failed, ...). */
  value: string;
  message: string;
}

export type QuarantineCode =
  | 'missing-field'
  | 'zero-date'
  | 'bad-time'
  | 'future-time'
  | 'depart-before-enter'
  | 'negative-fee'
  | 'bad-number'
  | 'bad-spot-count'
  | 'missing-photo'
  | 'corrupt-photo'
  | 'refused-photo';

export interface QuarantineReason {
  code: QuarantineCode;
  /** Canonical field name the reason is about, when there is one. */
  field?: string;
  /** What is wrong, with the offending value, in words an operator can act on. */
  message: string;
}

export type Transformed<T> =
  | { ok: true; value: T; warnings: Warning[] }
  | { ok: false; reasons: QuarantineReason[]; warnings: Warning[] };

/** An entrance without its photo: the photo is fetched and fitted at push time. */
export type EntranceDraft = Omit<Entrance, 'enter_pic'>;
/** A departure without its photo. */
export type DepartureDraft = Omit<Departure, 'depart_pic'>;

export function reason(code: QuarantineCode, field: string | undefined, message: string): QuarantineReason {
  return field === undefined ? { code, message } : { code, field, message };
}

/** A vendor value as short, printable text for messages and metric labels. */
export function showValue(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  const text = typeof value === 'string' ? value : String(value);
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

/**
 * A transform's end: its warnings are reported (counted even for a row that is quarantined), then
 * the value is built, unless some reason keeps the row from being sent.
 */
export function settle<T>(
  stream: string,
  ctx: { onWarnings(stream: string, warnings: readonly Warning[]): void },
  reasons: QuarantineReason[],
  warnings: Warning[],
  value: () => T,
): Transformed<T> {
  ctx.onWarnings(stream, warnings);
  return reasons.length > 0 ? { ok: false, reasons, warnings } : { ok: true, value: value(), warnings };
}
