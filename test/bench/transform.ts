/**
 * The transform figures: entrance and departure rows/s on one core without photos
 * (`transform-rows-per-second`, target ≥ 200,000), and the photo work's ceiling: a bare sharp
 * decode + scale + encode loop to fitPhoto's output size over the benchmark's oversize camera photo
 * set at the photo concurrency (`ceiling-sharp`), interleaved round by round with fitPhoto on the
 * same images (reported beside it, with fitPhoto's encodes per photo and similarity to the source).
 *
 * CPU only: no database, no network.
 */
import sharp from 'sharp';
import { loadConfig } from '../../src/config/index.js';
import type { RawDeparture, RawEntrance } from '../../src/config/vendor-rows.js';
import { makeCameraJpeg } from '../../src/sim/camera-jpeg.js';
import { createTransformContext, transformDeparture, transformEntrance } from '../../src/transform/index.js';
import { fitPhoto } from '../../src/transform/photo/fit.js';
import { photoSimilarity } from '../../src/transform/photo/similarity.js';
import { fitOptionsFrom } from '../../src/transform/photo/wire.js';
import type { Run } from './lib/report.js';

const config = loadConfig({ env: {} });

const PLATES = [
  '鲁A12345',
  '京B·D12345',
  '无牌车',
  '沪a 88888',
  '粤Z1234港',
  '苏E12345',
  'ＡＢＣ',
  '川A1234学',
];
const KINDS = ['小型车', '大车', '新能源', 2, '小型汽车', '月租车'];

/** Wall-clock text 'YYYY-MM-DD HH:mm:ss' for row i (formatting only; the transform does the parsing). */
function wallClock(i: number, plusSeconds = 0): string {
  return new Date(Date.UTC(2024, 0, 1) + i * 13_000 + plusSeconds * 1000)
    .toISOString()
    .slice(0, 19)
    .replace('T', ' ');
}

/**
 * Rounds of transforming `rows` entrances and `rows` departures (raw rows as the reader hands them
 * over, with plates, kinds and pay words of the kinds vendors write). A run's value is all rows over
 * both streams' time; each stream's own rate is beside it.
 */
export function measureTransformRows(rows: number, rounds: number): Run[] {
  const ctx = createTransformContext(config);
  const entrances: RawEntrance[] = Array.from({ length: rows }, (_, i) => ({
    vendorKey: String(i),
    cursorTime: wallClock(i),
    parkCode: `P${i % 50}`,
    plateNumber: PLATES[i % PLATES.length]!,
    enterTime: wallClock(i),
    carType: KINDS[i % KINDS.length]!,
    carLogo: '大众',
  }));
  const departures: RawDeparture[] = entrances.map((e, i) => ({
    vendorKey: e.vendorKey,
    cursorTime: e.cursorTime,
    parkCode: e.parkCode,
    plateNumber: e.plateNumber,
    departTime: wallClock(i, 600 + (i % 7200)),
    enterTime: e.enterTime,
    carType: e.carType,
    carLogo: e.carLogo,
    payableFee: (i * 37) % 5000,
    paidFee: (i * 37) % 5000,
    payTime: wallClock(i, 600 + (i % 7200)),
    payType: ['微信', '支付宝扫码', '现金', null][i % 4]!,
  }));
  const timed = (fn: () => number) => {
    const t = performance.now();
    const ok = fn();
    return { ok, seconds: (performance.now() - t) / 1000 };
  };
  const runs: Run[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    const e = timed(() => entrances.reduce((ok, row) => ok + (transformEntrance(row, ctx).ok ? 1 : 0), 0));
    const d = timed(() => departures.reduce((ok, row) => ok + (transformDeparture(row, ctx).ok ? 1 : 0), 0));
    if (r === 0) continue; // warm-up: JIT
    runs.push({
      value: (2 * rows) / (e.seconds + d.seconds),
      entrancesPerSecond: rows / e.seconds,
      departuresPerSecond: rows / d.seconds,
      ok: e.ok + d.ok,
      rows: 2 * rows,
    });
  }
  return runs;
}

/**
 * The oversize photo set: camera-like JPEGs (src/sim/camera-jpeg.ts) as gate cameras write them,
 * 2560×1440 and 3840×2160 (every third), 1–3 MB, deterministic; half carry an EXIF block with a
 * thumbnail, every fourth is progressive, some 4:2:0 and some 4:4:4.
 */
export async function makeOversizePhotos(count: number): Promise<Buffer[]> {
  const images: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const uhd = i % 3 === 2;
    images.push(
      await makeCameraJpeg({
        width: uhd ? 3840 : 2560,
        height: uhd ? 2160 : 1440,
        seed: 1000 + i,
        detail: uhd ? 0.8 : 0.9 + (i % 4) * 0.25,
        quality: uhd ? 90 : 92,
        chroma: i % 2 === 0 ? '4:2:0' : '4:4:4',
        progressive: i % 4 === 3,
        ...(i % 2 === 1 ? { exif: {} } : {}),
      }),
    );
  }
  return images;
}

/** Small photos already under the limit (~250 KB, 1280×720): they pass through unchanged. */
export async function makeSmallPhotos(count: number): Promise<Buffer[]> {
  const images: Buffer[] = [];
  for (let i = 0; i < count; i++)
    images.push(
      await makeCameraJpeg({ width: 1280, height: 720, seed: 2000 + i, detail: 1, quality: 85 + (i % 3) }),
    );
  return images;
}

export async function inParallel<T>(items: T[], concurrency: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * The bare loop the fitter is held to: what fitPhoto does to an oversize photo without its choices,
 * i.e. decode, scale into photo.maxDimension (so libjpeg shrinks on load exactly where fitPhoto's does)
 * and encode at quality 90 with fitPhoto's encoder settings, one libvips thread per photo (fitPhoto's
 * setup) — no header reading, strip check, quality prediction or second encode.
 */
export function bareFit(maxDimension: number): (jpeg: Buffer) => Promise<Buffer> {
  return (jpeg) =>
    sharp(jpeg)
      .resize({
        width: maxDimension,
        height: maxDimension,
        fit: 'inside',
        withoutEnlargement: true,
        fastShrinkOnLoad: true,
      })
      .jpeg({ quality: 90, chromaSubsampling: '4:2:0', optimiseCoding: false })
      .toBuffer();
}

/**
 * Rounds of the bare loop (bareFit, every image, `concurrency` at once) interleaved with fitPhoto over
 * the same images. A run's value is the bare photos/s; fitPhoto's rate, its ratio to the bare loop,
 * its encodes per photo (mean and max) and, on the first round, the lowest SSIM of a fitted photo
 * against its source (greyscale, 640 px wide) are beside it.
 */
export async function measureSharpCeiling(
  images: Buffer[],
  concurrency: number,
  rounds: number,
  { similarity = true }: { similarity?: boolean } = {},
) {
  const options = fitOptionsFrom(config.photo);
  const bare = bareFit(options.maxDimension);
  sharp.cache(false);
  sharp.concurrency(1);
  await inParallel(images.slice(0, concurrency), concurrency, bare); // warm-up
  const runs: Run[] = [];
  let minSimilarity: number | undefined;
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    await inParallel(images, concurrency, bare);
    const bareRate = images.length / ((performance.now() - t) / 1000);
    let encodes = 0;
    let maxEncodes = 0;
    const fitted: [Buffer, Buffer][] = [];
    t = performance.now();
    await inParallel(images, concurrency, async (b) => {
      const result = await fitPhoto(b, options);
      if (!result.ok) throw new Error(`fitPhoto failed on a benchmark photo: ${result.message}`);
      encodes += result.encodes;
      maxEncodes = Math.max(maxEncodes, result.encodes);
      if (r === 0 && similarity) fitted.push([b, result.jpeg]);
    });
    const fit = images.length / ((performance.now() - t) / 1000);
    if (fitted.length) {
      for (const [source, out] of fitted) {
        const s = await photoSimilarity(source, out);
        minSimilarity = Math.min(minSimilarity ?? 1, s);
      }
    }
    runs.push({
      value: bareRate,
      fitPhotoPerSecond: fit,
      fitToBare: fit / bareRate,
      fitEncodesPerPhoto: encodes / images.length,
      fitMaxEncodes: maxEncodes,
      ...(r === 0 && minSimilarity !== undefined ? { fitMinSsim: minSimilarity } : {}),
    });
  }
  return runs;
}
