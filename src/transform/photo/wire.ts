/**
 * A vendor photo to the string ISP gets (open points 5 and 6): photo.prefix + Base64 of a JPEG, the
 * whole string at most photo.maxBytes. Missing, corrupt or refused photos follow photo.onMissing:
 * an empty string (default; the event is not lost) or a quarantine reason. Counts every outcome,
 * encode and byte in metrics. Run it inside the pipeline's photo limiter (limiter.ts).
 */
import { photoBytes, photoEncodes, photos } from '../../metrics.js';
import { type QuarantineReason, reason } from '../types.js';
import { type FitOptions, fitPhoto } from './fit.js';
import { type LoadPhotoOptions, loadPhoto, type PhotoConfig, type PhotoSource } from './sources.js';

export type PhotoOutcome = 'passthrough' | 'stripped' | 'reencoded' | 'missing' | 'corrupt' | 'refused';

export type PhotoWire =
  | {
      ok: true;
      /** prefix + Base64, or '' for a missing/corrupt/refused photo under onMissing 'empty'. */
      value: string;
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
  photos.inc({ outcome });
  if (photo.onMissing === 'quarantine') {
    return {
      ok: false,
      reason: reason(QUARANTINE_CODES[outcome], 'photo', message),
      outcome,
      encodes,
      retryable,
    };
  }
  return { ok: true, value: '', outcome, encodes, message, retryable };
}

export async function photoToWire(
  raw: Buffer | string | null | undefined,
  source: PhotoSource,
  photo: PhotoConfig,
  options: LoadPhotoOptions = {},
): Promise<PhotoWire> {
  const input = await loadPhoto(raw, source, photo, options);
  if (!input.ok) return unusable(input.outcome, input.message, photo, 0, input.retryable);
  const fitted = await fitPhoto(input.bytes, fitOptionsFrom(photo));
  if (fitted.encodes > 0) photoEncodes.inc(fitted.encodes);
  if (!fitted.ok) return unusable(fitted.outcome, fitted.message, photo, fitted.encodes, false);
  const value = photo.prefix + fitted.jpeg.toString('base64');
  photos.inc({ outcome: fitted.outcome });
  photoBytes.inc(value.length);
  return { ok: true, value, outcome: fitted.outcome, encodes: fitted.encodes, retryable: false };
}
