/**
 * The transform figures: entrance and departure rows/s on one core without photos
 * (`transform-rows-per-second`, target ≥ 200,000), and the photo work's ceiling: a bare sharp
 * decode + encode loop over the benchmark's oversize camera photo set at the photo concurrency
 * (`ceiling-sharp`), interleaved round by round with fitPhoto on the same images (reported beside
 * it, with fitPhoto's encodes per photo).
 *
 * CPU only: no database, no network.
 */
import sharp from 'sharp';
import { loadConfig } from '../../src/config/index.js';
import type { RawDeparture, RawEntrance } from '../../src/config/vendor-rows.js';
import { makeCameraJpeg } from '../../src/sim/camera-jpeg.js';
import { createTransformContext, transformDeparture, transformEntrance } from '../../src/transform/index.js';
import { fitPhoto } from '../../src/transform/photo/fit.js';
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
 * The oversize photo set: camera-like JPEGs (src/sim/camera-jpeg.ts), 1920×1080 and 2560×1440, 1–2 MB,
 * deterministic. Every third one is the larger frame.
 */
export async function makeOversizePhotos(count: number): Promise<Buffer[]> {
  const images: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const large = i % 3 === 2;
    images.push(
      await makeCameraJpeg({
        width: large ? 2560 : 1920,
        height: large ? 1440 : 1080,
        seed: 1000 + i,
        detail: large ? 1.1 : 1 + (i % 4) * 0.3,
        quality: large ? 92 : 95,
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

async function inParallel<T>(items: T[], concurrency: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * Rounds of the bare sharp loop (decode + encode at sharp's defaults, every image, `concurrency`
 * at once) interleaved with fitPhoto over the same images. A run's value is the bare photos/s.
 */
export async function measureSharpCeiling(images: Buffer[], concurrency: number, rounds: number) {
  const options = fitOptionsFrom(config.photo);
  await inParallel(images.slice(0, concurrency), concurrency, (b) => sharp(b).jpeg().toBuffer()); // warm-up
  const runs: Run[] = [];
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    await inParallel(images, concurrency, (b) => sharp(b).jpeg().toBuffer());
    const bare = images.length / ((performance.now() - t) / 1000);
    let encodes = 0;
    t = performance.now();
    await inParallel(images, concurrency, async (b) => {
      const result = await fitPhoto(b, options);
      if (!result.ok) throw new Error(`fitPhoto failed on a benchmark photo: ${result.message}`);
      encodes += result.encodes;
    });
    const fit = images.length / ((performance.now() - t) / 1000);
    runs.push({
      value: bare,
      fitPhotoPerSecond: fit,
      fitToBare: fit / bare,
      fitEncodesPerPhoto: encodes / images.length,
    });
  }
  return runs;
}
