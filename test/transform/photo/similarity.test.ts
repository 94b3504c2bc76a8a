import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { makeCameraJpeg } from '../../../src/sim/camera-jpeg.js';
import { photoSimilarity, ssim } from '../../../src/transform/photo/similarity.js';

function image(width: number, height: number, pixel: (x: number, y: number) => number): Uint8Array {
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = pixel(x, y);
  return out;
}

describe('ssim', () => {
  const w = 64;
  const h = 48;
  const texture = image(w, h, (x, y) => (x * 37 + y * 91 + ((x * y) % 13) * 9) % 256);

  it('is 1 for identical images and falls with noise, to near 0 for unrelated ones', () => {
    expect(ssim(texture, texture, w, h)).toBeCloseTo(1, 10);
    const slight = image(w, h, (x, y) => Math.min(255, texture[y * w + x]! + ((x + y) % 3) - 1));
    const heavy = image(
      w,
      h,
      (x, y) => (texture[y * w + x]! + ((x * 7919 + y * 104729) % 97) - 48 + 256) % 256,
    );
    const unrelated = image(w, h, (x, y) => (x * 13 + y * 7 + ((x ^ y) % 5) * 31) % 256);
    const [a, b, c] = [
      ssim(texture, slight, w, h),
      ssim(texture, heavy, w, h),
      ssim(texture, unrelated, w, h),
    ];
    expect(a).toBeGreaterThan(0.97);
    expect(b).toBeLessThan(a);
    expect(c).toBeLessThan(0.2);
  });

  it('sees structure, not brightness alone: a uniform shift keeps it high, a flattened image does not', () => {
    const brighter = image(w, h, (x, y) => Math.min(255, texture[y * w + x]! * 0.9 + 10));
    const flat = image(w, h, () => 128);
    expect(ssim(texture, brighter, w, h)).toBeGreaterThan(0.9);
    expect(ssim(texture, flat, w, h)).toBeLessThan(0.1);
  });

  it('refuses buffers that are not the stated size', () => {
    expect(() => ssim(texture, texture.subarray(1), w, h)).toThrow(/64x48/);
  });
});

describe('photoSimilarity', () => {
  it('rates a fair downscale high, a blurred or blocky one lower, another scene low', async () => {
    const [a, b] = await Promise.all([
      makeCameraJpeg({ width: 1920, height: 1080, seed: 1, quality: 92 }),
      makeCameraJpeg({ width: 1920, height: 1080, seed: 2, quality: 92 }),
    ]);
    const fair = await sharp(a).resize(1280).jpeg({ quality: 85 }).toBuffer();
    // Two pipelines: sharp keeps only the last resize of one.
    const thumb = await sharp(a).resize(240).toBuffer();
    const blurred = await sharp(thumb).resize(1280).jpeg({ quality: 85 }).toBuffer();
    const blocky = await sharp(a).resize(1280).jpeg({ quality: 5 }).toBuffer();
    const [f, bl, bk, other] = await Promise.all([
      photoSimilarity(a, fair),
      photoSimilarity(a, blurred),
      photoSimilarity(a, blocky),
      photoSimilarity(a, b),
    ]);
    expect(f).toBeGreaterThan(0.95);
    expect(bl).toBeLessThan(0.9);
    expect(bk).toBeLessThan(0.9);
    expect(other).toBeLessThan(0.6);
  });
});
