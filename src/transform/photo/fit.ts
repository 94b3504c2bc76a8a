/**
 * Long by design: one search (model, probe, encode, check) whose steps share the image's state.
 *
 * Fits a photo's bytes into a JPEG of at most `maxJpegBytes`, with as few full encodes as possible.
 * A complete JPEG already under the limit passes through byte-identical. Otherwise the image is
 * decoded once (scaled to photo.maxDimension on load). A bytes-per-pixel model of the source (its
 * size, pixels and JPEG quality) picks the first quality to try; that guess is checked on a mosaic of
 * 16-px-aligned tiles (~5% of the pixels, the image's own DCT blocks, so re-quantization effects show)
 * and the model, rescaled by each probe, walks the quality ladder to the best predicted fit, which is
 * encoded once. If the result is still too big, the next attempt corrects by the measured error;
 * when even the lowest quality would not fit, the image is scaled down. Corrupt or unsupported
 * input is reported, never thrown. Owns CPU work only: no I/O.
 */
import type { Sharp } from 'sharp';
import { decodeBmp } from './bmp.js';
import { detectFormat, type ImageFormat, readJpegInfo } from './detect.js';

type SharpFn = typeof import('sharp').default;
let sharpLoaded: Promise<SharpFn> | undefined;
/**
 * sharp (libvips) is loaded on the first photo that needs decoding, not at start: a process that
 * never re-encodes a photo (no photo columns, passthrough JPEGs, the CLI) does not carry libvips
 * and its threads (over 10 MB resident).
 */
function loadSharp(): Promise<SharpFn> {
  sharpLoaded ??= import('sharp').then(({ default: sharp }) => {
    // Every photo is decoded once and never again: libvips' operation cache would only hold memory.
    sharp.cache(false);
    return sharp;
  });
  return sharpLoaded;
}

/** JPEG qualities tried, best first: below 60 we scale down instead of degrading further. */
const QUALITIES = [90, 85, 80, 75, 70, 65, 60] as const;
/** Aim the estimate this far under the limit: the mosaic's sampling error is a few percent. */
const ESTIMATE_MARGIN = 0.93;
/** Mosaic tiles: size (a multiple of the 16-px MCU) and the grid across the image. */
const TILE = 32;
const GRID_X = 12;
const GRID_Y = 8;
/** Full encodes before giving up (a correct estimate needs 1; a bad one 2; scaling may add some). */
const MAX_ENCODES = 8;
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

export type FitResult =
  | {
      ok: true;
      jpeg: Buffer;
      outcome: 'passthrough' | 'reencoded';
      /** Full JPEG encodes done (0 for a passthrough). */
      encodes: number;
      format: ImageFormat;
      width: number;
      height: number;
      quality?: number;
    }
  | { ok: false; outcome: 'corrupt' | 'refused'; message: string; encodes: number; format: ImageFormat };

interface Raw {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

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

export async function fitPhoto(bytes: Buffer, options: FitOptions): Promise<FitResult> {
  const format = detectFormat(bytes);
  if (bytes.length === 0) return failed('corrupt', 'photo is empty (0 bytes)', format);
  if (format === 'unknown')
    return failed('corrupt', `photo is not an image (starts with ${preview(bytes)})`, format);
  if (!['jpeg', 'png', 'webp', 'bmp'].includes(format)) {
    return failed('corrupt', `photo format ${format} is not supported (JPEG, PNG, WebP, BMP)`, format);
  }

  const source: SourceFacts = { bytes: bytes.length, pixels: 0 };
  if (format === 'jpeg') {
    const info = readJpegInfo(bytes);
    if (!info) return failed('corrupt', 'JPEG headers are broken', format);
    if (!info.complete) return failed('corrupt', 'JPEG is truncated (no end-of-image marker)', format);
    if (info.width * info.height > options.maxInputPixels) {
      return failed('refused', `JPEG of ${info.width}x${info.height} exceeds photo.maxInputPixels`, format);
    }
    if (bytes.length <= options.maxJpegBytes && (info.components === 1 || info.components === 3)) {
      return {
        ok: true,
        jpeg: bytes,
        outcome: 'passthrough',
        encodes: 0,
        format,
        width: info.width,
        height: info.height,
      };
    }
    source.quality = info.quality;
    source.subsampled = info.subsampled;
    source.pixels = info.width * info.height;
  }

  // Outside the try: a sharp that cannot load is this process's problem, not the photo's.
  const sharp = await loadSharp();
  let raw: Raw;
  try {
    raw = await decode(sharp, bytes, format, options);
  } catch (error) {
    const message = (error as Error).message;
    const refused = /pixel limit|exceeds|too large/i.test(message);
    return failed(
      refused ? 'refused' : 'corrupt',
      `photo cannot be decoded: ${message.split('\n')[0]}`,
      format,
    );
  }
  return encodeToFit(raw, options, format, source);
}

async function decode(sharp: SharpFn, bytes: Buffer, format: ImageFormat, options: FitOptions): Promise<Raw> {
  let image: Sharp;
  if (format === 'bmp') {
    const bmp = decodeBmp(bytes, options.maxInputPixels);
    if (!bmp.ok) throw new Error(bmp.message);
    image = sharp(bmp.data, { raw: { width: bmp.width, height: bmp.height, channels: bmp.channels } });
  } else {
    // failOn 'error': truncated or broken data fails; mere warnings (odd markers) still decode.
    image = sharp(bytes, { failOn: 'error', limitInputPixels: options.maxInputPixels, autoOrient: true });
  }
  const { data, info } = await image
    .resize({
      width: options.maxDimension,
      height: options.maxDimension,
      fit: 'inside',
      withoutEnlargement: true,
    })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/**
 * One JPEG encode. Huffman optimisation is off: on noisy camera frames it makes the encode ~2.5×
 * slower for ~9% fewer bytes, i.e. about one step on the quality ladder under a fixed limit, and
 * photo throughput matters more here (measured in test/bench/transform.ts).
 */
async function encode(raw: Raw, quality: number): Promise<Buffer> {
  const sharp = await loadSharp();
  return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels as 3 } })
    .jpeg({ quality, chromaSubsampling: '4:2:0', optimiseCoding: false })
    .toBuffer();
}

/** 16-aligned tiles spread over the image, side by side: same DCT blocks, a few percent of pixels. */
function mosaic(raw: Raw): Raw | undefined {
  const { width, height, channels } = raw;
  const gx = Math.min(GRID_X, Math.floor(width / TILE));
  const gy = Math.min(GRID_Y, Math.floor(height / TILE));
  // Small images: the image itself is the best sample (and cheap to encode).
  if (gx < 1 || gy < 1 || gx * gy * TILE * TILE * 4 >= width * height) return undefined;
  const out = Buffer.allocUnsafe(gx * TILE * gy * TILE * channels);
  const outStride = gx * TILE * channels;
  for (let ty = 0; ty < gy; ty++) {
    const sy = Math.min(height - TILE, Math.floor(((ty + 0.5) * height) / gy - TILE / 2)) & ~15;
    for (let tx = 0; tx < gx; tx++) {
      const sx = Math.min(width - TILE, Math.floor(((tx + 0.5) * width) / gx - TILE / 2)) & ~15;
      for (let y = 0; y < TILE; y++) {
        const src = ((sy + y) * width + sx) * channels;
        raw.data.copy(out, (ty * TILE + y) * outStride + tx * TILE * channels, src, src + TILE * channels);
      }
    }
  }
  return { data: out, width: gx * TILE, height: gy * TILE, channels };
}

/** Size of a JPEG of nearly nothing at `quality`: the headers and tables every encode carries. */
const headerBytes = new Map<number, number>();
async function headerSize(quality: number, channels: number): Promise<number> {
  const key = quality * 10 + channels;
  let size = headerBytes.get(key);
  if (size === undefined) {
    const blank = Buffer.alloc(16 * 16 * channels, 128);
    size = (await encode({ data: blank, width: 16, height: 16, channels }, quality)).length;
    headerBytes.set(key, size);
  }
  return size;
}

/** Predicts full-image JPEG sizes per quality from the mosaic (memoized per quality). */
function createEstimator(raw: Raw): (quality: number) => Promise<number> {
  const sample = mosaic(raw);
  const cache = new Map<number, number>();
  return async (quality) => {
    const hit = cache.get(quality);
    if (hit !== undefined) return hit;
    let estimate: number;
    if (!sample) estimate = (await encode(raw, quality)).length;
    else {
      const header = await headerSize(quality, raw.channels);
      const bytes = (await encode(sample, quality)).length;
      const perPixel = Math.max(0, bytes - header) / (sample.width * sample.height);
      estimate = header + perPixel * raw.width * raw.height;
    }
    cache.set(quality, estimate);
    return estimate;
  };
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

/** Source facts the first guess is made from (the bytes-per-pixel model). */
interface SourceFacts {
  bytes: number;
  pixels: number;
  quality?: number;
  subsampled?: boolean;
}

/** Predicted JPEG bytes at a quality: only its shape matters after the first probe rescales it. */
type SizeModel = (quality: number) => number;

/** Bytes per pixel of a camera frame at quality 75, for sources that say nothing (PNG, BMP, WebP). */
const PRIOR_BYTES_PER_PIXEL = 0.12;
/** Freshly resampled content: bytes ∝ quantization scale^-0.8 (measured, quality 60-90). */
const FRESH_EXPONENT = 0.8;

/**
 * The bytes-per-pixel model: a JPEG source kept at its size is re-quantized (its own blocks, so the
 * REQUANT_RATIO curve); anything resampled or not from a JPEG follows the smooth fresh-content curve,
 * anchored on the source's bytes per pixel (or a prior).
 */
function sizeModel(source: SourceFacts, outPixels: number): SizeModel {
  // Our encodes use standard Huffman tables (see encode), ~9% above an optimised source.
  const ours = 1.09 * (source.subsampled === false ? 0.9 : 1);
  const sourceQuality = source.quality;
  if (sourceQuality !== undefined && outPixels === source.pixels) {
    const bytes = source.bytes * ours;
    return (q) => bytes * requantRatio(tableScale(q) / tableScale(sourceQuality));
  }
  if (sourceQuality !== undefined) {
    return freshModel(source.bytes * ours * (outPixels / source.pixels) ** 0.75, sourceQuality);
  }
  return freshModel(outPixels * PRIOR_BYTES_PER_PIXEL, 75);
}

/** Smooth curve through `bytes` at `quality`. */
function freshModel(bytes: number, quality: number): SizeModel {
  return (q) => bytes * (tableScale(quality) / tableScale(q)) ** FRESH_EXPONENT;
}

/** A mosaic estimate this close to the target is taken without looking for a better quality. */
const GOOD_ENOUGH = 0.85;

/**
 * Index in QUALITIES (from `from` on) of the best quality whose corrected mosaic estimate fits
 * `target`, or -1 when none does. Starts where the model says, then rescales the model by each probe's
 * measured error to jump to the next candidate (secant-like), so two probes usually settle it.
 */
async function bestQuality(
  estimate: (q: number) => Promise<number>,
  model: SizeModel,
  target: number,
  correction: number,
  from: number,
): Promise<number> {
  const last = QUALITIES.length - 1;
  const predicts = (j: number, k: number) => model(QUALITIES[j]!) * k <= target;
  let over = from - 1; // largest index known not to fit
  let fit: number = QUALITIES.length; // smallest index known to fit
  let i = from;
  while (i < last && !predicts(i, 1)) i++;
  for (;;) {
    const e = (await estimate(QUALITIES[i]!)) * correction;
    const k = e / model(QUALITIES[i]!);
    if (e <= target) {
      fit = i;
      if (e >= target * GOOD_ENOUGH || fit === over + 1) return fit;
      let better = -1; // the best quality above i the rescaled model says fits
      for (let j = over + 1; j < i && better === -1; j++) if (predicts(j, k)) better = j;
      if (better === -1) better = i - 1; // the model says none: look one step up anyway
      i = better;
    } else {
      over = i;
      if (over === last) return -1;
      if (fit === over + 1) return fit;
      let next = -1;
      for (let j = over + 1; j < Math.min(fit, QUALITIES.length) && next === -1; j++)
        if (predicts(j, k)) next = j;
      i = next === -1 ? Math.min(last, fit - 1) : next;
    }
  }
}

async function encodeToFit(
  raw: Raw,
  options: FitOptions,
  format: ImageFormat,
  source: SourceFacts,
): Promise<FitResult> {
  const limit = options.maxJpegBytes;
  const target = limit * ESTIMATE_MARGIN;
  // Re-encoding a JPEG above its own quality only adds bytes.
  let from = 0;
  if (source.quality !== undefined) {
    while (from < QUALITIES.length - 1 && QUALITIES[from]! > source.quality) from++;
  }
  let model = sizeModel(source, raw.width * raw.height);
  let estimate = createEstimator(raw);
  let correction = 1;
  let encodes = 0;
  let lastFailed = -1; // index of the last quality that came out too big at this scale
  while (encodes < MAX_ENCODES) {
    const start = Math.max(from, lastFailed + 1);
    const index =
      start < QUALITIES.length ? await bestQuality(estimate, model, target, correction, start) : -1;
    if (index === -1) {
      // Even the lowest quality is predicted too big: scale down by the predicted excess.
      const lowest = (await estimate(QUALITIES[QUALITIES.length - 1]!)) * correction;
      const factor = Math.min(0.9, Math.sqrt(target / lowest) * 0.97);
      const width = Math.max(1, Math.floor(raw.width * factor));
      const height = Math.max(1, Math.floor(raw.height * factor));
      if (Math.min(width, height) < MIN_SIDE) break;
      const sharp = await loadSharp();
      const { data, info } = await sharp(raw.data, {
        raw: { width: raw.width, height: raw.height, channels: raw.channels as 3 },
      })
        .resize(width, height)
        .raw()
        .toBuffer({ resolveWithObject: true });
      raw = { data, width: info.width, height: info.height, channels: info.channels };
      estimate = createEstimator(raw);
      model = freshModel(lowest * factor * factor, QUALITIES[QUALITIES.length - 1]!);
      lastFailed = -1;
      continue;
    }
    const quality = QUALITIES[index]!;
    const jpeg = await encode(raw, quality);
    encodes++;
    if (jpeg.length <= limit) {
      return {
        ok: true,
        jpeg,
        outcome: 'reencoded',
        encodes,
        format,
        width: raw.width,
        height: raw.height,
        quality,
      };
    }
    // The estimate was low: correct all further estimates by the measured error, with a margin.
    correction = Math.max(correction, (jpeg.length / (await estimate(quality))) * 1.02);
    lastFailed = index;
  }
  return failed('refused', `photo cannot be made smaller than ${limit} bytes as a JPEG`, format, encodes);
}
