import fc from 'fast-check';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../../src/config/index.js';
import { entranceSchema, PHOTO_MAX_BYTES } from '../../../src/isp-spec/index.js';
import { photoEncodes, photos } from '../../../src/metrics.js';
import { makeCameraJpeg } from '../../../src/sim/camera-jpeg.js';
import {
  fitOptionsFrom,
  fitPhoto,
  maxJpegBytesFor,
  photoToWire,
} from '../../../src/transform/photo/index.js';

function photoConfig(overrides: Partial<Config['photo']> = {}): Config['photo'] {
  return { ...loadConfig({ env: {} }).photo, ...overrides };
}

/** The JPEG inside a wire string. */
function jpegOf(value: string, prefix = 'data:image/jpg;base64,'): Buffer {
  expect(value.startsWith(prefix)).toBe(true);
  return Buffer.from(value.slice(prefix.length), 'base64');
}

/** A 24-bit BMP (bottom-up), written by hand. */
function bmp24(width: number, height: number, rgb: [number, number, number]): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + stride * height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) out.set([rgb[2], rgb[1], rgb[0]], 54 + y * stride + x * 3);
  return out;
}

async function counter(metric: typeof photos, outcome?: string): Promise<number> {
  const values = (await metric.get()).values;
  return values
    .filter((v) => outcome === undefined || v.labels.outcome === outcome)
    .reduce((a, v) => a + v.value, 0);
}

const config = photoConfig();
let camera1080: Buffer;
let camera12mp: Buffer;
let small300k: Buffer;

beforeAll(async () => {
  [camera1080, camera12mp, small300k] = await Promise.all([
    makeCameraJpeg({ width: 1920, height: 1080, seed: 7, quality: 95 }),
    makeCameraJpeg({ width: 4000, height: 3000, seed: 8, quality: 92 }),
    makeCameraJpeg({ width: 1920, height: 1080, seed: 9, quality: 75 }),
  ]);
}, 60_000);

describe('photos under 512 KB', () => {
  it('uses a realistic ~1 MB 1920x1080 camera JPEG and a ~300 KB one', () => {
    expect(camera1080.length).toBeGreaterThan(900 * 1024);
    expect(camera1080.length).toBeLessThan(2 * 1024 * 1024);
    expect(small300k.length).toBeGreaterThan(250 * 1024);
    expect(small300k.length).toBeLessThan(maxJpegBytesFor(config));
  });

  it('fits a ~1 MB 1920x1080 camera JPEG, decodable at >= 1280 px wide', async () => {
    const wire = await photoToWire(camera1080, 'blob', config);
    expect(wire).toMatchObject({ ok: true, outcome: 'reencoded' });
    if (!wire.ok) return;
    expect(Buffer.byteLength(wire.value)).toBeLessThanOrEqual(PHOTO_MAX_BYTES);
    expect(wire.encodes).toBeLessThanOrEqual(2);
    const meta = await sharp(jpegOf(wire.value)).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.width).toBeGreaterThanOrEqual(1280);
    const stats = await sharp(jpegOf(wire.value)).stats(); // decodes every pixel
    expect(stats.channels).toHaveLength(3);
    // What the spec's schema says about the field.
    const entrance = {
      park_code: 'P',
      plate_number: '鲁A12345',
      enter_time: 1588061331,
      car_type: '2',
      car_logo: '',
    };
    expect(entranceSchema.safeParse({ ...entrance, enter_pic: wire.value }).success).toBe(true);
  });

  it('fits a 4000x3000 camera JPEG at a sensible resolution', async () => {
    const wire = await photoToWire(camera12mp, 'blob', config);
    if (!wire.ok) throw new Error('not ok');
    expect(wire.outcome).toBe('reencoded');
    expect(Buffer.byteLength(wire.value)).toBeLessThanOrEqual(PHOTO_MAX_BYTES);
    const meta = await sharp(jpegOf(wire.value)).metadata();
    expect(meta).toMatchObject({ width: 1920, height: 1440 });
    expect(wire.encodes).toBeLessThanOrEqual(2);
  });

  it('passes a 300 KB JPEG through byte-identical, without encoding', async () => {
    const encodesBefore = await counter(photoEncodes as never);
    const wire = await photoToWire(small300k, 'blob', config);
    expect(wire).toMatchObject({ ok: true, outcome: 'passthrough', encodes: 0 });
    expect(jpegOf((wire as { value: string }).value).equals(small300k)).toBe(true);
    expect(await counter(photoEncodes as never)).toBe(encodesBefore);
  });

  it('needs at most 2 encodes per 1-2 MB 1080p camera JPEG on average', async () => {
    let encodes = 0;
    const n = 6;
    for (let i = 0; i < n; i++) {
      const jpeg = await makeCameraJpeg({
        width: 1920,
        height: 1080,
        seed: 100 + i,
        detail: 0.8 + i * 0.25,
        quality: 94 + (i % 3),
      });
      expect(jpeg.length).toBeGreaterThan(700 * 1024);
      const fitted = await fitPhoto(jpeg, fitOptionsFrom(config));
      if (!fitted.ok) throw new Error(fitted.message);
      expect(fitted.jpeg.length).toBeLessThanOrEqual(maxJpegBytesFor(config));
      expect(fitted.width).toBeGreaterThanOrEqual(1280);
      encodes += fitted.encodes;
    }
    expect(encodes / n).toBeLessThanOrEqual(2);
  }, 60_000);

  it('re-encodes PNG (with alpha), WebP, BMP and CMYK JPEG inputs to JPEG', async () => {
    const rgba = await sharp({
      create: { width: 300, height: 200, channels: 4, background: { r: 200, g: 30, b: 30, alpha: 0.5 } },
    })
      .png()
      .toBuffer();
    const webp = await sharp(small300k).resize(640).webp().toBuffer();
    const cmyk = await sharp(small300k).resize(320).toColourspace('cmyk').jpeg().toBuffer();
    for (const [input, width] of [
      [rgba, 300],
      [webp, 640],
      [bmp24(90, 60, [10, 200, 30]), 90],
      [cmyk, 320],
    ] as const) {
      const wire = await photoToWire(input, 'blob', config);
      expect(wire).toMatchObject({ ok: true, outcome: 'reencoded', encodes: 1 });
      const meta = await sharp(jpegOf((wire as { value: string }).value)).metadata();
      expect(meta).toMatchObject({ format: 'jpeg', width, space: 'srgb' });
    }
    const fromBmp = await photoToWire(bmp24(32, 32, [10, 200, 30]), 'blob', config);
    const { data } = await sharp(jpegOf((fromBmp as { value: string }).value))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(Math.abs(data[1]! - 200)).toBeLessThan(8); // green stays green: channel order is right
  });

  it.each([
    {
      name: 'a truncated JPEG',
      input: () => camera1080.subarray(0, Math.floor(camera1080.length * 0.6)),
      words: 'truncated',
    },
    { name: 'a zero-byte file', input: () => Buffer.alloc(0), words: 'empty' },
    {
      name: 'a text file named .jpg',
      input: () => Buffer.from('<html><body>404 Not Found</body></html>'),
      words: 'not an image',
    },
    {
      name: 'a GIF',
      input: () => Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'),
      words: 'not supported',
    },
    {
      name: 'a JPEG header with garbage',
      input: () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0]), Buffer.alloc(50, 7)]),
      words: 'broken',
    },
  ])('reports $name as corrupt', async ({ input, words }) => {
    const result = await fitPhoto(input(), fitOptionsFrom(config));
    expect(result).toMatchObject({ ok: false, outcome: 'corrupt', encodes: 0 });
    expect((result as { message: string }).message).toContain(words);
  });

  it('sends an empty string and counts it by default; quarantines when configured', async () => {
    const truncated = camera1080.subarray(0, 1000);
    const before = await counter(photos, 'corrupt');
    expect(await photoToWire(truncated, 'blob', config)).toMatchObject({
      ok: true,
      value: '',
      outcome: 'corrupt',
    });
    expect(await counter(photos, 'corrupt')).toBe(before + 1);
    const strict = photoConfig({ onMissing: 'quarantine' });
    expect(await photoToWire(truncated, 'blob', strict)).toMatchObject({
      ok: false,
      outcome: 'corrupt',
      reason: { code: 'corrupt-photo', field: 'photo' },
    });
    expect(await photoToWire(null, 'blob', strict)).toMatchObject({
      ok: false,
      reason: { code: 'missing-photo' },
    });
    expect(await photoToWire(Buffer.alloc(0), 'blob', config)).toMatchObject({
      ok: true,
      value: '',
      outcome: 'missing',
    });
  });

  it('refuses inputs over the byte and pixel caps without decoding them', async () => {
    expect(await photoToWire(camera1080, 'blob', photoConfig({ maxInputBytes: 100_000 }))).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('maxInputBytes'),
    });
    expect(await photoToWire(camera12mp, 'blob', photoConfig({ maxInputPixels: 10_000_000 }))).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('maxInputPixels'),
    });
  });

  it('refuses a decompression bomb and a limit no JPEG can meet', async () => {
    const bomb = await sharp({ create: { width: 12_000, height: 6_000, channels: 3, background: '#000' } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(await photoToWire(bomb, 'blob', config)).toMatchObject({ outcome: 'refused', value: '' });
    const impossible = await photoToWire(small300k, 'blob', photoConfig({ maxBytes: 200 }));
    expect(impossible).toMatchObject({ ok: true, value: '', outcome: 'refused' });
    expect((impossible as { message: string }).message).toContain('cannot be made smaller');
  });

  it('reads stored Base64 and data URIs', async () => {
    const base64 = small300k.toString('base64');
    for (const stored of [
      base64,
      `data:image/jpeg;base64,${base64}`,
      `${base64.slice(0, 1000)}\n${base64.slice(1000)}`,
    ]) {
      const wire = await photoToWire(stored, 'base64', config);
      expect(wire).toMatchObject({ ok: true, outcome: 'passthrough' });
      expect(jpegOf((wire as { value: string }).value).equals(small300k)).toBe(true);
    }
    expect(await photoToWire('not base64 at all!', 'base64', config)).toMatchObject({ outcome: 'corrupt' });
    expect(await photoToWire('data:image/jpeg,abc', 'base64', config)).toMatchObject({ outcome: 'corrupt' });
    expect(await photoToWire('  ', 'base64', config)).toMatchObject({ outcome: 'missing' });
  });

  it('honours a configured limit and prefix', async () => {
    const tight = photoConfig({ maxBytes: 60_000, prefix: 'data:image/jpeg;base64,' });
    const wire = await photoToWire(camera1080, 'blob', tight);
    if (!wire.ok) throw new Error('not ok');
    expect(wire.value.startsWith('data:image/jpeg;base64,')).toBe(true);
    expect(Buffer.byteLength(wire.value)).toBeLessThanOrEqual(60_000);
    expect((await sharp(jpegOf(wire.value, 'data:image/jpeg;base64,')).metadata()).format).toBe('jpeg');
  });

  it('never yields a string over the limit, whatever the photo', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          width: fc.integer({ min: 16, max: 2600 }),
          height: fc.integer({ min: 16, max: 2000 }),
          quality: fc.integer({ min: 40, max: 100 }),
          detail: fc.double({ min: 0, max: 2, noNaN: true }),
          seed: fc.nat(1000),
          format: fc.constantFrom('jpeg', 'png', 'webp', 'bmp'),
          maxBytes: fc.integer({ min: 20_000, max: 700_000 }),
        }),
        async ({ format, maxBytes, ...image }) => {
          const jpeg = await makeCameraJpeg(image);
          let input: Buffer = jpeg;
          if (format === 'png') input = await sharp(jpeg).png({ compressionLevel: 1 }).toBuffer();
          if (format === 'webp') input = await sharp(jpeg).webp().toBuffer();
          if (format === 'bmp')
            input = bmp24(Math.min(image.width, 400), Math.min(image.height, 300), [
              image.seed % 256,
              90,
              160,
            ]);
          const wire = await photoToWire(input, 'blob', photoConfig({ maxBytes }));
          if (!wire.ok) throw new Error('not ok');
          expect(['passthrough', 'reencoded']).toContain(wire.outcome);
          expect(Buffer.byteLength(wire.value)).toBeLessThanOrEqual(maxBytes);
          expect((await sharp(jpegOf(wire.value)).metadata()).format).toBe('jpeg');
        },
      ),
      { numRuns: 20 },
    );
  }, 60_000);
});
