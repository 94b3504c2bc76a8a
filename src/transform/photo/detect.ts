/**
 * Image format by content (magic bytes), never by file name, and a JPEG header reader: size,
 * chroma subsampling, the encoder's quality (estimated from the luminance quantization table, as
 * ImageMagick does) and whether the file ends with an EOI marker (a truncated camera upload does
 * not). Reads headers only; decodes no pixels.
 */

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'bmp' | 'gif' | 'tiff' | 'heif' | 'unknown';

export function detectFormat(bytes: Buffer): ImageFormat {
  if (bytes.length < 4) return 'unknown';
  const b0 = bytes[0];
  const b1 = bytes[1];
  if (b0 === 0xff && b1 === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (b0 === 0x89 && b1 === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (b0 === 0x42 && b1 === 0x4d && bytes.length >= 26) return 'bmp';
  if (
    bytes.length >= 12 &&
    bytes.toString('latin1', 0, 4) === 'RIFF' &&
    bytes.toString('latin1', 8, 12) === 'WEBP'
  ) {
    return 'webp';
  }
  if (bytes.toString('latin1', 0, 4) === 'GIF8') return 'gif';
  if (
    (b0 === 0x49 && b1 === 0x49 && bytes[2] === 0x2a) ||
    (b0 === 0x4d && b1 === 0x4d && bytes[3] === 0x2a)
  ) {
    return 'tiff';
  }
  if (bytes.length >= 12 && bytes.toString('latin1', 4, 8) === 'ftyp') return 'heif';
  return 'unknown';
}

export interface JpegInfo {
  width: number;
  height: number;
  /** Components (1 grey, 3 YCbCr). */
  components: number;
  /** Chroma subsampled (4:2:0 / 4:2:2) rather than 4:4:4. */
  subsampled: boolean;
  /** Estimated libjpeg quality 1-100 of the luminance table, or undefined when there is no table. */
  quality: number | undefined;
  progressive: boolean;
  /** An EOI marker ends the data (trailing padding allowed). */
  complete: boolean;
}

/** The libjpeg / IJG standard luminance quantization table (natural order; order does not matter here). */
const STD_LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const STD_LUMA_SUM = STD_LUMA.reduce((a, b) => a + b, 0);

/** Quality from the sum of a luminance table, inverting libjpeg's scaling (5000/q or 200-2q percent). */
function qualityFromTableSum(sum: number): number {
  const percent = (sum * 100) / STD_LUMA_SUM;
  if (percent <= 1) return 100;
  const q = percent <= 100 ? (200 - percent) / 2 : 5000 / percent;
  return Math.max(1, Math.min(100, Math.round(q)));
}

/** Header facts of a JPEG, or undefined when the marker structure is broken before the image data. */
export function readJpegInfo(bytes: Buffer): JpegInfo | undefined {
  if (detectFormat(bytes) !== 'jpeg') return undefined;
  let i = 2;
  let quality: number | undefined;
  let sof: Omit<JpegInfo, 'quality' | 'complete'> | undefined;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    const length = bytes.readUInt16BE(i + 2);
    const start = i + 4;
    const end = i + 2 + length;
    if (length < 2 || end > bytes.length) return undefined;
    if (marker === 0xdb) {
      // DQT: one or more tables [Pq|Tq][64 values of 8 or 16 bits].
      let j = start;
      while (j < end) {
        const pq = bytes[j]! >> 4;
        const tq = bytes[j]! & 15;
        let sum = 0;
        for (let k = 0; k < 64; k++) sum += pq ? bytes.readUInt16BE(j + 1 + k * 2) : bytes[j + 1 + k]!;
        if (tq === 0) quality = qualityFromTableSum(sum);
        j += 1 + 64 * (pq ? 2 : 1);
      }
    } else if (
      (marker >= 0xc0 && marker <= 0xc3) ||
      (marker >= 0xc5 && marker <= 0xcb) ||
      (marker >= 0xcd && marker <= 0xcf)
    ) {
      const height = bytes.readUInt16BE(start + 1);
      const width = bytes.readUInt16BE(start + 3);
      const components = bytes[start + 5]!;
      const luma = bytes[start + 7] ?? 0x11;
      sof = {
        width,
        height,
        components,
        subsampled: components >= 3 && luma !== 0x11,
        progressive: marker === 0xc2 || marker === 0xc6 || marker === 0xca || marker === 0xce,
      };
    } else if (marker === 0xda) {
      if (!sof) return undefined;
      return { ...sof, quality, complete: endsWithEoi(bytes) };
    }
    i = end;
  }
  return undefined;
}

/** FF D9 at the end, allowing some trailing zero or 0xFF padding that cameras append. */
function endsWithEoi(bytes: Buffer): boolean {
  let k = bytes.length - 1;
  const stop = Math.max(1, bytes.length - 4096);
  while (k > stop && (bytes[k] === 0x00 || (bytes[k] === 0xff && bytes[k - 1] !== 0xff))) k--;
  return bytes[k] === 0xd9 && bytes[k - 1] === 0xff;
}
