import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeCameraJpeg, withExif } from '../../../src/sim/camera-jpeg.js';
import { stripJpegMetadata } from '../../../src/transform/photo/strip.js';

/** A JPEG segment: marker, then length (itself included) and payload. */
function segment(marker: number, payload: Buffer): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/** The payload of the first APP1 of a camera JPEG (right after SOI). */
function exifOf(jpeg: Buffer): Buffer {
  expect(jpeg[3]).toBe(0xe1);
  return jpeg.subarray(6, 4 + jpeg.readUInt16BE(4));
}

let baseline: Buffer;
let progressive: Buffer;
let exif: Buffer;

beforeAll(async () => {
  [baseline, progressive] = await Promise.all([
    makeCameraJpeg({ width: 640, height: 360, seed: 1, quality: 85 }),
    makeCameraJpeg({ width: 640, height: 360, seed: 2, quality: 85, progressive: true }),
  ]);
  exif = exifOf(await makeCameraJpeg({ width: 640, height: 360, seed: 3, exif: { thumbnailWidth: 160 } }));
});

describe('stripJpegMetadata', () => {
  it('returns a JPEG with nothing to drop as it is', () => {
    expect(stripJpegMetadata(baseline)).toEqual({ jpeg: baseline, removed: 0 });
  });

  it.each([
    ['baseline', () => baseline],
    ['progressive (tables between scans)', () => progressive],
  ])(
    'drops EXIF with its thumbnail, XMP, comments and a trailing preview from a %s JPEG',
    async (_n, jpeg) => {
      const original = jpeg();
      const xmp = segment(0xe1, Buffer.from('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>', 'latin1'));
      const comment = segment(0xfe, Buffer.from('camera 7 lane 2', 'latin1'));
      const [head, rest] = [original.subarray(0, 2), original.subarray(2)];
      const preview = await sharp(original).resize(120).jpeg().toBuffer();
      const dressed = Buffer.concat([withExif(Buffer.concat([head, xmp, comment, rest]), exif), preview]);
      const result = stripJpegMetadata(dressed);
      expect(result).toEqual({ jpeg: original, removed: dressed.length - original.length });
      expect(exif.length).toBeGreaterThan(3_000); // the thumbnail was in it
    },
  );

  it('keeps the ICC profile and the Adobe colour-transform flag: they change how pixels look', async () => {
    const cmyk = await makeCameraJpeg({ width: 320, height: 180, seed: 4, cmyk: true, exif: {} });
    const withIcc = await sharp(baseline).withIccProfile('p3').jpeg().toBuffer();
    for (const jpeg of [cmyk, withIcc]) {
      const result = stripJpegMetadata(jpeg);
      if (typeof result !== 'object') throw new Error(result);
      const [before, after] = await Promise.all([sharp(jpeg).metadata(), sharp(result.jpeg).metadata()]);
      expect(after.icc?.length).toBe(before.icc?.length);
      expect(after.space).toBe(before.space);
      expect(after.exif).toBeUndefined();
    }
  });

  it('with a size to reach, refuses from the headers a photo that cannot get under it, unless MPF images follow', () => {
    const dressed = withExif(baseline, exif);
    expect(stripJpegMetadata(dressed, baseline.length)).toMatchObject({ jpeg: baseline });
    expect(stripJpegMetadata(dressed, baseline.length - 1)).toBe('too-big');
    const mpf = segment(0xe2, Buffer.concat([Buffer.from('MPF\0', 'latin1'), Buffer.alloc(12)]));
    const announced = Buffer.concat([dressed.subarray(0, 2), mpf, dressed.subarray(2), baseline]);
    const result = stripJpegMetadata(announced, baseline.length + 100);
    if (typeof result !== 'object') throw new Error(result);
    expect(result.jpeg.length).toBeLessThan(baseline.length + 100);
    expect(result.jpeg.subarray(result.jpeg.length - 2)).toEqual(Buffer.from([0xff, 0xd9]));
  });

  it('refuses a photo whose EXIF orientation turns it, and broken or truncated ones', async () => {
    const turned = exifOf(await makeCameraJpeg({ width: 64, height: 64, seed: 5, exif: { orientation: 6 } }));
    expect(stripJpegMetadata(withExif(baseline, turned))).toBe('oriented');
    expect(stripJpegMetadata(baseline.subarray(0, baseline.length - 200))).toBe('broken');
    expect(stripJpegMetadata(baseline.subarray(0, 100))).toBe('broken');
    expect(stripJpegMetadata(Buffer.from('not a jpeg'))).toBe('broken');
  });
});
