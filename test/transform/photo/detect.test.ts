import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeBmp } from '../../../src/transform/photo/bmp.js';
import { detectFormat, readJpegInfo } from '../../../src/transform/photo/index.js';

/** A BMP written by hand: 24-bit bottom-up, or 32-bit top-down, or 8-bit with a palette. */
function bmp(
  width: number,
  height: number,
  bits: 8 | 24 | 32,
  pixel: (x: number, y: number) => [number, number, number],
  topDown = false,
): Buffer {
  const stride = Math.ceil((width * bits) / 32) * 4;
  const paletteSize = bits === 8 ? 256 * 4 : 0;
  const offset = 54 + paletteSize;
  const out = Buffer.alloc(offset + stride * height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(offset, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(topDown ? -height : height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(bits, 28);
  out.writeUInt32LE(0, 30);
  if (bits === 8)
    for (let i = 0; i < 256; i++) out.writeUInt32LE((i << 16) | ((255 - i) << 8) | (i >> 1), 54 + i * 4);
  for (let y = 0; y < height; y++) {
    const row = offset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      if (bits === 24) out.set([b, g, r], row + x * 3);
      else if (bits === 32) out.set([b, g, r, 255], row + x * 4);
      else out[row + x] = r;
    }
  }
  return out;
}

describe('format by content', () => {
  it('recognizes images by magic bytes, not names', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#f00' } })
      .png()
      .toBuffer();
    const webp = await sharp(png).webp().toBuffer();
    const jpeg = await sharp(png).jpeg().toBuffer();
    const gif = await sharp(png).gif().toBuffer();
    expect(detectFormat(jpeg)).toBe('jpeg');
    expect(detectFormat(png)).toBe('png');
    expect(detectFormat(webp)).toBe('webp');
    expect(detectFormat(gif)).toBe('gif');
    expect(detectFormat(bmp(2, 2, 24, () => [1, 2, 3]))).toBe('bmp');
    expect(detectFormat(Buffer.from('<html>404 Not Found</html>'))).toBe('unknown');
    expect(detectFormat(Buffer.alloc(0))).toBe('unknown');
  });

  it.each([50, 60, 75, 80, 85, 90, 95])(
    'estimates the quality of a quality-%i JPEG from its tables',
    async (quality) => {
      const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a6' } })
        .jpeg({ quality })
        .toBuffer();
      const info = readJpegInfo(jpeg);
      expect(info).toMatchObject({ width: 64, height: 48, components: 3, subsampled: true, complete: true });
      expect(Math.abs(info!.quality! - quality)).toBeLessThanOrEqual(1);
    },
  );

  it('sees 4:4:4, progressive and truncated JPEGs', async () => {
    const base = sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a6' } });
    const full = await base.clone().jpeg({ quality: 92, chromaSubsampling: '4:4:4' }).toBuffer();
    expect(readJpegInfo(full)).toMatchObject({ subsampled: false, progressive: false, complete: true });
    const progressive = await base.clone().jpeg({ progressive: true }).toBuffer();
    expect(readJpegInfo(progressive)).toMatchObject({ progressive: true });
    const padded = Buffer.concat([full, Buffer.alloc(100)]);
    expect(readJpegInfo(padded)).toMatchObject({ complete: true });
    expect(readJpegInfo(full.subarray(0, full.length - 40))).toMatchObject({ complete: false });
    expect(readJpegInfo(full.subarray(0, 100))).toBeUndefined();
    expect(readJpegInfo(Buffer.from('hello'))).toBeUndefined();
  });
});

describe('BMP decoding (sharp cannot)', () => {
  const pattern = (x: number, y: number): [number, number, number] => [x * 40, y * 60, 200];

  it.each([
    [24, false],
    [24, true],
    [32, false],
  ] as const)('decodes %i-bit (top-down %s) pixels in order', (bits, topDown) => {
    const result = decodeBmp(bmp(5, 3, bits, pattern, topDown), 1000);
    if (!result.ok) throw new Error(result.message);
    expect(result).toMatchObject({ width: 5, height: 3 });
    for (const [x, y] of [
      [0, 0],
      [4, 2],
      [2, 1],
    ] as const) {
      const i = (y * 5 + x) * 3;
      expect([...result.data.subarray(i, i + 3)]).toEqual(pattern(x, y));
    }
  });

  it('decodes 8-bit palette images', () => {
    const result = decodeBmp(
      bmp(3, 2, 8, (x) => [x * 100, 0, 0]),
      1000,
    );
    if (!result.ok) throw new Error(result.message);
    expect([...result.data.subarray(6, 9)]).toEqual([200, 55, 100]);
  });

  it('reports unsupported and broken BMPs instead of guessing', () => {
    const rle = bmp(4, 4, 8, () => [0, 0, 0]);
    rle.writeUInt32LE(1, 30);
    expect(decodeBmp(rle, 1000)).toMatchObject({
      ok: false,
      message: expect.stringContaining('not supported'),
    });
    const truncated = bmp(40, 40, 24, pattern).subarray(0, 500);
    expect(decodeBmp(truncated, 10_000)).toMatchObject({
      ok: false,
      message: expect.stringContaining('truncated'),
    });
    expect(decodeBmp(bmp(40, 40, 24, pattern), 100)).toMatchObject({
      ok: false,
      message: expect.stringContaining('maxInputPixels'),
    });
    expect(decodeBmp(Buffer.from('BM'), 100)).toMatchObject({ ok: false });
  });
});
