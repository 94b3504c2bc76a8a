/**
 * A vendor photo to what ISP gets (open points 5 and 6): photo.prefix + Base64 of a JPEG, the whole
 * string at most photo.maxBytes. The JPEG is handed on as bytes (`jpeg`): the request body is where
 * its Base64 is written (src/isp/record-text.ts), once; `value` makes the string only when asked.
 * Missing, corrupt or refused photos follow photo.onMissing: an empty string (default; the event is
 * not lost) or a quarantine reason. The caller counts each result's outcome, encodes and bytes in
 * metrics under its source (`countPhoto`): the fitting itself depends on its inputs only. Run the
 * fitting inside the pipeline's photo limiter (limiter.ts).
 */
import { photoBytes, photoEncodes, photos } from '../../metrics.js';
import { type QuarantineReason, reason } from '../types.js';
import { type FitOptions, fitPhoto } from './fit.js';
import {
  type LoadPhotoOptions,
  loadPhoto,
  type PhotoConfig,
  type PhotoInput,
  type PhotoSource,
} from './sources.js';

export type PhotoOutcome = 'passthrough' | 'stripped' | 'reencoded' | 'missing' | 'corrupt' | 'refused';

export type PhotoWire =
  | {
      ok: true;
      /** The JPEG to send (its Base64 goes after photo.prefix), or null: no photo ('' is sent). */
      jpeg: Buffer | null;
      /** prefix + Base64, or '' for a missing/corrupt/refused photo under onMissing 'empty' (made when read). */
      readonly value: string;
      outcome: PhotoOutcome;
      /** Full JPEG encodes spent on this photo. */
      encodes: number;
      /** Why the photo is empty, when it is. */
      message?: string;
      /** The photo could not be fetched for a reason that may pass (timeout, 5xx). */
      retryable: boolean;
    }
  | { ok: false; reason: QuarantineReason; outcome: PhotoOutcome; encodes: number; retryable: boolean };

/** Largest JPEG whose Base64 with the prefix stays within maxBytes. */
export function maxJpegBytesFor(photo: Pick<PhotoConfig, 'maxBytes' | 'prefix'>): number {
  return Math.floor((photo.maxBytes - Buffer.byteLength(photo.prefix, 'utf8')) / 4) * 3;
}

export function fitOptionsFrom(photo: PhotoConfig): FitOptions {
  return {
    maxJpegBytes: maxJpegBytesFor(photo),
    maxDimension: photo.maxDimension,
    maxInputPixels: photo.maxInputPixels,
  };
}

const QUARANTINE_CODES = {
  missing: 'missing-photo',
  corrupt: 'corrupt-photo',
  refused: 'refused-photo',
} as const;

function unusable(
  outcome: 'missing' | 'corrupt' | 'refused',
  message: string,
  photo: PhotoConfig,
  encodes: number,
  retryable: boolean,
): PhotoWire {
  if (photo.onMissing === 'quarantine') {
    return {
      ok: false,
      reason: reason(QUARANTINE_CODES[outcome], 'photo', message),
      outcome,
      encodes,
      retryable,
    };
  }
  return { ok: true, jpeg: null, value: '', outcome, encodes, message, retryable };
}

/** Base64 length of `n` bytes. */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/**
 * Bytes encoded per piece: a multiple of 3 (the pieces' Base64 joins up without padding) whose text
 * (64 KB) stays under V8's large-object size, so each piece is made in the young generation and
 * dies there; a whole photo's Base64 string would be fresh memory, mapped and unmapped each time.
 */
const PIECE = 3 * 16 * 1024;

/** Writes the Base64 of `jpeg` into `out` at `at` (room for base64Length); returns where it ends. */
export function base64Into(jpeg: Buffer, out: Buffer, at: number): number {
  let end = at;
  for (let i = 0; i < jpeg.length; i += PIECE) {
    end += out.write(jpeg.toString('base64', i, Math.min(jpeg.length, i + PIECE)), end, 'latin1');
  }
  return end;
}

export async function photoToWire(
  raw: Buffer | string | null | undefined,
  source: PhotoSource,
  photo: PhotoConfig,
  options: LoadPhotoOptions = {},
): Promise<PhotoWire> {
  return wireOf(await loadPhoto(raw, source, photo, options), photo);
}

/** A loaded photo (loadPhoto's answer) to what ISP gets: fitted under the limit. */
export async function wireOf(input: PhotoInput, photo: PhotoConfig): Promise<PhotoWire> {
  if (!input.ok) return unusable(input.outcome, input.message, photo, 0, input.retryable);
  const fitted = await fitPhoto(input.bytes, fitOptionsFrom(photo));
  if (!fitted.ok) return unusable(fitted.outcome, fitted.message, photo, fitted.encodes, false);
  const jpeg = fitted.jpeg;
  return {
    ok: true,
    jpeg,
    get value() {
      return photo.prefix + jpeg.toString('base64');
    },
    outcome: fitted.outcome,
    encodes: fitted.encodes,
    retryable: false,
  };
}

/**
 * Counts one photo's result in metrics under `source` (whose photo it is: config.source.name): its
 * outcome, the encodes spent on it, and the bytes of the string sent for it.
 */
export function countPhoto(source: string, wire: PhotoWire, photo: Pick<PhotoConfig, 'prefix'>): void {
  photos.inc({ source, outcome: wire.outcome });
  if (wire.encodes > 0) photoEncodes.inc({ source }, wire.encodes);
  if (wire.ok && wire.jpeg) photoBytes.inc({ source }, photo.prefix.length + base64Length(wire.jpeg.length));
}
