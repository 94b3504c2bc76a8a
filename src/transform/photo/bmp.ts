/**
 * A minimal BMP decoder (the prebuilt sharp cannot read BMP): uncompressed 24- and 32-bit images
 * (BI_RGB, or BI_BITFIELDS with the usual masks) and 8-bit palette images, bottom-up or top-down.
 * Anything else (RLE, 16-bit, 1/4-bit) is reported as unsupported rather than guessed at.
 */

export type BmpResult =
  | { ok: true; data: Buffer; width: number; height: number; channels: 3 }
  | { ok: false; message: string };

export function decodeBmp(bytes: Buffer, maxPixels: number): BmpResult {
  if (bytes.length < 54 || bytes[0] !== 0x42 || bytes[1] !== 0x4d)
    return { ok: false, message: 'not a BMP file' };
  const dataOffset = bytes.readUInt32LE(10);
  const headerSize = bytes.readUInt32LE(14);
  if (headerSize < 40)
    return { ok: false, message: `BMP header of ${headerSize} bytes (OS/2 BMP) is not supported` };
  const width = bytes.readInt32LE(18);
  const rawHeight = bytes.readInt32LE(22);
  const bitCount = bytes.readUInt16LE(28);
  const compression = bytes.readUInt32LE(30);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  if (width <= 0 || height === 0) return { ok: false, message: `BMP has no pixels (${width}x${height})` };
  if (width * height > maxPixels)
    return { ok: false, message: `BMP of ${width}x${height} exceeds photo.maxInputPixels` };
  const bitfields = compression === 3 && bitCount === 32;
  if (!(compression === 0 || bitfields) || ![8, 24, 32].includes(bitCount)) {
    return {
      ok: false,
      message: `BMP with ${bitCount} bits per pixel and compression ${compression} is not supported`,
    };
  }
  let palette: Buffer | undefined;
  if (bitCount === 8) {
    const colours = bytes.readUInt32LE(46) || 256;
    const start = 14 + headerSize;
    if (start + colours * 4 > bytes.length) return { ok: false, message: 'BMP palette is truncated' };
    palette = bytes.subarray(start, start + colours * 4);
  }
  let shifts = [16, 8, 0]; // R, G, B positions in a little-endian 32-bit pixel
  if (bitfields) {
    const masks = [bytes.readUInt32LE(54), bytes.readUInt32LE(58), bytes.readUInt32LE(62)];
    const s = masks.map((m) =>
      m === 0xff0000 ? 16 : m === 0xff00 ? 8 : m === 0xff ? 0 : m === 0xff000000 ? 24 : -1,
    );
    if (s.includes(-1)) return { ok: false, message: 'BMP with unusual colour masks is not supported' };
    shifts = s;
  }
  const stride = Math.ceil((width * bitCount) / 32) * 4;
  if (dataOffset + stride * height > bytes.length)
    return { ok: false, message: 'BMP pixel data is truncated' };
  const out = Buffer.allocUnsafe(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    let o = y * width * 3;
    for (let x = 0; x < width; x++) {
      if (bitCount === 24) {
        const p = row + x * 3;
        out[o++] = bytes[p + 2]!;
        out[o++] = bytes[p + 1]!;
        out[o++] = bytes[p]!;
      } else if (bitCount === 32) {
        const v = bytes.readUInt32LE(row + x * 4);
        out[o++] = (v >>> shifts[0]!) & 0xff;
        out[o++] = (v >>> shifts[1]!) & 0xff;
        out[o++] = (v >>> shifts[2]!) & 0xff;
      } else {
        const idx = bytes[row + x]! * 4;
        if (!palette || idx + 3 > palette.length)
          return { ok: false, message: 'BMP palette index out of range' };
        out[o++] = palette[idx + 2]!;
        out[o++] = palette[idx + 1]!;
        out[o++] = palette[idx]!;
      }
    }
  }
  return { ok: true, data: out, width, height, channels: 3 };
}
