/**
 * Fits a photo's bytes into a JPEG of at most `maxJpegBytes`, in at most two full encodes.
 *
 * In order: a complete JPEG already under the limit passes through byte-identical; one that is under
 * it without its metadata (EXIF and its thumbnail, XMP, trailing previews) is stripped losslessly
 * (strip.ts), no pixel touched; anything else is decoded, scaled to fit photo.maxDimension and
 * encoded in one sharp pipeline. Decoding a JPEG at 1/2, 1/4 or 1/8 of its size is libjpeg's
 * (shrink-on-load), and sharp asks for it on its own when the scale allows (see docs/photos.md).
 * The first quality is predicted from the source's header alone (its bytes, pixels and quality);
 * if that encode comes out too big, its measured size predicts a second, safer quality (and a
 * smaller size when even the lowest quality would not fit), and there is no third: a photo the
 * second encode cannot fit is refused. Corrupt or unsupported input is reported, never thrown.
 * Owns CPU work only: no I/O.
 */
import type { Sharp } from 'sharp';
import { decodeBmp } from './bmp.js';
import { detectFormat, type ImageFormat, readJpegInfo } from './detect.js';
import { loadSharp, type SharpFn } from './sharp.js';
import { stripJpegMetadata } from './strip.js';

/** JPEG qualities tried, best first: below 60 we scale down instead of degrading further. */
const QUALITIES = [90, 85, 80, 75, 70, 65, 60] as const;
const LOWEST = QUALITIES.length - 1;
/** The first encode aims its predicted size this far under the limit. */
const FIRST_MARGIN = 0.95;
/** The second encode aims its predicted size this far under: it is the last one. */
const SECOND_MARGIN = 0.85;
/** Full encodes per photo, at most. */
export const MAX_ENCODES = 2;
/** Smallest side we scale down to before declaring the limit impossible. */
const MIN_SIDE = 64;

export interface FitOptions {
  /** Largest JPEG, bytes (the Base64 wire limit converted to binary bytes). */
  maxJpegBytes: number;
  /** Longest side of a re-encoded photo. */
  maxDimension: number;
  /** Largest input decoded, pixels. */
  maxInputPixels: number;
}

export type FitOutcome = 'passthrough' | 'stripped' | 'reencoded';

export type FitResult =
  | {
      ok: true;
      jpeg: Buffer;
      outcome: FitOutcome;
      /** Full JPEG encodes done (0 for a passthrough or a strip). */
      encodes: number;
      format: ImageFormat;
      width: number;
      height: number;
      quality?: number;
    }
  | { ok: false; outcome: 'corrupt' | 'refused'; message: string; encodes: number; format: ImageFormat };

/** A text-ish preview of non-image content for the message (e.g. an HTML error page saved as .jpg). */
function preview(bytes: Buffer): string {
  const head = bytes.subarray(0, 24).toString('latin1');
  return /^[\x20-\x7e\r\n\t]+$/.test(head)
    ? `text "${head.replace(/\s+/g, ' ').trim()}"`
    : `bytes ${bytes.subarray(0, 8).toString('hex')}`;
}

function failed(
  outcome: 'corrupt' | 'refused',
  message: string,
  format: ImageFormat,
  encodes = 0,
): FitResult {
  return { ok: false, outcome, message, encodes, format };
}

/** Source facts the first quality is predicted from. */
interface SourceFacts {
  bytes: number;
  width: number;
  height: number;
  quality?: number;
  subsampled?: boolean;
}

export async function fitPhoto(bytes: Buffer, options: FitOptions): Promise<FitResult> {
  const format = detectFormat(bytes);
  if (bytes.length === 0) return failed('corrupt', 'photo is empty (0 bytes)', format);
  if (format === 'unknown')
    return failed('corrupt', `photo is not an image (starts with ${preview(bytes)})`, format);
  if (!['jpeg', 'png', 'webp', 'bmp'].includes(format)) {
    return failed('corrupt', `photo format ${format} is not supported (JPEG, PNG, WebP, BMP)`, format);
  }

  let source: SourceFacts | undefined;
  if (format === 'jpeg') {
    const info = readJpegInfo(bytes);
    if (!info) return failed('corrupt', 'JPEG headers are broken', format);
    if (!info.complete) return failed('corrupt', 'JPEG is truncated (no end-of-image marker)', format);
    if (info.width * info.height > options.maxInputPixels) {
      return failed('refused', `JPEG of ${info.width}x${info.height} exceeds photo.maxInputPixels`, format);
    }
    const { width, height } = info;
    // Grey or YCbCr JPEGs any viewer shows; CMYK ones (4 components) are re-encoded whatever their size.
    if (info.components === 1 || info.components === 3) {
      if (bytes.length <= options.maxJpegBytes) {
        return { ok: true, jpeg: bytes, outcome: 'passthrough', encodes: 0, format, width, height };
      }
      // Metadata is no reason to re-encode: a photo under the limit without it loses only that.
      const stripped = stripJpegMetadata(bytes, options.maxJpegBytes);
      if (typeof stripped === 'object' && stripped.jpeg.length <= options.maxJpegBytes) {
        return { ok: true, jpeg: stripped.jpeg, outcome: 'stripped', encodes: 0, format, width, height };
      }
    }
    source = { bytes: bytes.length, width, height, quality: info.quality, subsampled: info.subsampled };
  }

  // Outside the try: a sharp that cannot load is this process's problem, not the photo's.
  const sharp = await loadSharp();
  let input: () => Sharp;
  try {
    input = inputOf(sharp, bytes, format, options);
    if (!source) {
      const meta = await input().metadata();
      source = { bytes: bytes.length, width: meta.width ?? 1, height: meta.height ?? 1 };
      if (source.width * source.height > options.maxInputPixels) {
        return failed(
          'refused',
          `${format} of ${source.width}x${source.height} exceeds photo.maxInputPixels`,
          format,
        );
      }
    }
  } catch (error) {
    return undecodable(error, format, 0);
  }
  return encodeToFit(input, source, options, format);
}

/** A fresh sharp pipeline over the input, each call (a second encode decodes again). */
function inputOf(sharp: SharpFn, bytes: Buffer, format: ImageFormat, options: FitOptions): () => Sharp {
  if (format === 'bmp') {
    const bmp = decodeBmp(bytes, options.maxInputPixels);
    if (!bmp.ok) throw new Error(bmp.message);
    return () => sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: bmp.channels } });
  }
  // failOn 'error': truncated or broken data fails; mere warnings (odd markers) still decode.
  return () => sharp(bytes, { failOn: 'error', limitInputPixels: options.maxInputPixels, autoOrient: true });
}

function undecodable(error: unknown, format: ImageFormat, encodes: number): FitResult {
  const message = (error as Error).message;
  const refused = /pixel limit|exceeds|too large/i.test(message);
  return failed(
    refused ? 'refused' : 'corrupt',
    `photo cannot be decoded: ${message.split('\n')[0]}`,
    format,
    encodes,
  );
}

interface Encoded {
  jpeg: Buffer;
  width: number;
  height: number;
}

/**
 * Decode, scale into a `longest`-pixel square (never enlarging) and encode, in one pipeline. With a
 * target size given, sharp decodes a JPEG at 1/2, 1/4 or 1/8 scale when the reduction allows
 * (fastShrinkOnLoad). Huffman optimisation is off: on noisy camera frames it costs more encode time
 * than the ~9% of bytes it saves are worth under a fixed limit.
 */
async function render(input: () => Sharp, longest: number, quality: number): Promise<Encoded> {
  const { data, info } = await input()
    .resize({
      width: longest,
      height: longest,
      fit: 'inside',
      withoutEnlargement: true,
      fastShrinkOnLoad: true,
    })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .jpeg({ quality, chromaSubsampling: '4:2:0', optimiseCoding: false })
    .toBuffer({ resolveWithObject: true });
  return { jpeg: data, width: info.width, height: info.height };
}

/** libjpeg's quantization scale (percent of the standard tables) for a quality. */
function tableScale(quality: number): number {
  return quality < 50 ? 5000 / quality : 200 - 2 * quality;
}

/**
 * Size ratio of a re-encode to its JPEG source by the ratio of their quantization scales (typical
 * camera content, measured on 1920×1080 frames at source qualities 80-95). Steps coarser than twice
 * the source's zero the source's ±1 noise coefficients, hence the drop between 2 and 2.5.
 */
const REQUANT_RATIO: [scaleRatio: number, sizeRatio: number][] = [
  [0.5, 1.19],
  [1, 1],
  [1.5, 0.85],
  [2, 0.65],
  [2.5, 0.42],
  [3, 0.38],
  [4, 0.32],
  [5, 0.27],
  [6, 0.24],
  [8, 0.19],
  [10, 0.15],
];

function requantRatio(scaleRatio: number): number {
  let prev = REQUANT_RATIO[0]!;
  if (scaleRatio <= prev[0]) return prev[1];
  for (const point of REQUANT_RATIO) {
    if (scaleRatio <= point[0]) {
      const t = (scaleRatio - prev[0]) / (point[0] - prev[0]);
      return prev[1] + t * (point[1] - prev[1]);
    }
    prev = point;
  }
  return prev[1];
}

/** Bytes per pixel of a camera frame at quality 75, for sources that say nothing (PNG, BMP, WebP). */
const PRIOR_BYTES_PER_PIXEL = 0.12;
/** Freshly resampled content: bytes ∝ quantization scale^-0.8 (measured, quality 60-90). */
const FRESH_EXPONENT = 0.8;
/**
 * Resampled to fewer pixels, a JPEG's bytes fall as pixels^1.1: measured 0.66 (clean frames, far
 * under any limit) to 1.7 (noisy night frames, whose noise averages out), 1.25-1.4 for the frames
 * that come near the limit; 1.1 predicts those a little big, so the first encode rarely misses.
 */
const RESAMPLE_EXPONENT = 1.1;
/**
 * After a miss, sizes are predicted from the measured one with flatter curves than the fresh-content
 * ones (a re-quantized frame falls as scale^-0.62, pure noise flatter still): the second encode
 * should not miss.
 */
const SECOND_QUALITY_EXPONENT = 0.55;
const SECOND_PIXEL_EXPONENT = 0.75;

/** Predicted bytes of our encode at a quality, from the source's header facts. */
type SizeModel = (quality: number) => number;

function sizeModel(source: SourceFacts, outPixels: number): SizeModel {
  // Our encodes use standard Huffman tables and 4:2:0 chroma: ~9% above an optimised source,
  // ~10% under a 4:4:4 one.
  const ours = 1.09 * (source.subsampled === false ? 0.9 : 1);
  const sourceQuality = source.quality;
  const sourcePixels = source.width * source.height;
  if (sourceQuality !== undefined && outPixels >= sourcePixels) {
    const bytes = source.bytes * ours;
    return (q) => bytes * requantRatio(tableScale(q) / tableScale(sourceQuality));
  }
  if (sourceQuality !== undefined) {
    const bytes = source.bytes * ours * (outPixels / sourcePixels) ** RESAMPLE_EXPONENT;
    return (q) => bytes * (tableScale(sourceQuality) / tableScale(q)) ** FRESH_EXPONENT;
  }
  const bytes = outPixels * PRIOR_BYTES_PER_PIXEL;
  return (q) => bytes * (tableScale(75) / tableScale(q)) ** FRESH_EXPONENT;
}

/** Pixels of the source scaled into a `longest`-pixel square, never enlarged. */
function scaledPixels(width: number, height: number, longest: number): number {
  const scale = Math.min(1, longest / Math.max(width, height));
  return Math.max(1, Math.round(width * scale)) * Math.max(1, Math.round(height * scale));
}

/** What the second encode does after a first one of `measured` bytes at QUALITIES[index]. */
function secondTry(
  measured: number,
  index: number,
  first: Encoded,
  limit: number,
): { index: number; longest: number } {
  const target = limit * SECOND_MARGIN;
  const q1 = QUALITIES[index]!;
  const predict = (q: number) => measured * (tableScale(q1) / tableScale(q)) ** SECOND_QUALITY_EXPONENT;
  const longest = Math.max(first.width, first.height);
  for (let i = index + 1; i <= LOWEST; i++)
    if (predict(QUALITIES[i]!) <= target) return { index: i, longest };
  // Even the lowest quality would not fit: fewer pixels, by the predicted excess.
  const pixelRatio = (target / predict(QUALITIES[LOWEST]!)) ** (1 / SECOND_PIXEL_EXPONENT);
  return { index: LOWEST, longest: Math.floor(longest * Math.sqrt(Math.min(0.81, pixelRatio))) };
}

async function encodeToFit(
  input: () => Sharp,
  source: SourceFacts,
  options: FitOptions,
  format: ImageFormat,
): Promise<FitResult> {
  const limit = options.maxJpegBytes;
  // Re-encoding a JPEG above its own quality only adds bytes.
  let from = 0;
  if (source.quality !== undefined) {
    while (from < LOWEST && QUALITIES[from]! > source.quality) from++;
  }
  const model = sizeModel(source, scaledPixels(source.width, source.height, options.maxDimension));
  let index = from;
  while (index < LOWEST && model(QUALITIES[index]!) > limit * FIRST_MARGIN) index++;
  let longest = options.maxDimension;
  for (let encodes = 1; encodes <= MAX_ENCODES; encodes++) {
    let out: Encoded;
    try {
      out = await render(input, longest, QUALITIES[index]!);
    } catch (error) {
      return undecodable(error, format, encodes - 1);
    }
    if (out.jpeg.length <= limit) {
      return {
        ok: true,
        jpeg: out.jpeg,
        outcome: 'reencoded',
        encodes,
        format,
        width: out.width,
        height: out.height,
        quality: QUALITIES[index],
      };
    }
    if (encodes === MAX_ENCODES) break;
    ({ index, longest } = secondTry(out.jpeg.length, index, out, limit));
    if (
      longest < MIN_SIDE ||
      (Math.min(out.width, out.height) * longest) / Math.max(out.width, out.height) < MIN_SIDE
    ) {
      return failed('refused', `photo cannot be made smaller than ${limit} bytes as a JPEG`, format, encodes);
    }
  }
  return failed(
    'refused',
    `photo cannot be made smaller than ${limit} bytes as a JPEG in ${MAX_ENCODES} encodes`,
    format,
    MAX_ENCODES,
  );
}
