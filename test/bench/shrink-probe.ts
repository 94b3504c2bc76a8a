/**
 * Does libjpeg's shrink-on-load kick in when 2560×1440 frames are fitted to 1280 (exact 2:1) or a
 * little less? CPU per photo of fitPhoto at maxDimension 1280 / 1279 / 1276, rounds interleaved in
 * this process, with SSIM of each output to its source and the output size.
 *   node bin/run-ts.js test/bench/shrink-probe.ts [photos=6] [rounds=3]
 */
import sharp from 'sharp';
import { makeCameraJpeg } from '../../src/sim/camera-jpeg.js';
import { fitPhoto } from '../../src/transform/photo/fit.js';
import { photoSimilarity } from '../../src/transform/photo/similarity.js';

const count = Number(process.argv[2] ?? 6);
const rounds = Number(process.argv[3] ?? 3);
const photos: Buffer[] = [];
for (let i = 0; i < count; i++)
  photos.push(
    await makeCameraJpeg({
      width: 2560,
      height: 1440,
      seed: 1000 + i,
      detail: 0.9 + (i % 4) * 0.25,
      quality: 92,
      chroma: i % 2 === 0 ? '4:2:0' : '4:4:4',
      progressive: i % 4 === 3,
    }),
  );
const dims = (process.env.DIMS ?? '1280,1279,1276').split(',').map(Number);
const cpu = new Map<number, number[]>(dims.map((d) => [d, []]));
for (let r = 0; r < rounds + 1; r++)
  for (const d of dims) {
    const c0 = process.cpuUsage();
    for (const p of photos)
      await fitPhoto(p, { maxDimension: d, maxJpegBytes: 393_198, maxInputPixels: 1e8 });
    const c = process.cpuUsage(c0);
    if (r > 0) cpu.get(d)!.push((c.user + c.system) / 1000 / photos.length);
  }
for (const d of dims) {
  const sims: number[] = [];
  let size = '';
  let bytes = 0;
  for (const p of photos) {
    const f = await fitPhoto(p, { maxDimension: d, maxJpegBytes: 393_198, maxInputPixels: 1e8 });
    if (!f.ok) throw new Error(f.message);
    const m = await sharp(f.jpeg).metadata();
    size = `${m.width}×${m.height}`;
    bytes += f.jpeg.length;
    sims.push(await photoSimilarity(p, f.jpeg));
  }
  const ms = cpu.get(d)!.sort((a, b) => a - b);
  console.log(
    `maxDimension ${d}: ${size}, CPU ms/photo median ${ms[Math.floor(ms.length / 2)]!.toFixed(1)} (${ms.map((x) => x.toFixed(1)).join(', ')}), ` +
      `SSIM min ${Math.min(...sims).toFixed(4)} mean ${(sims.reduce((a, b) => a + b, 0) / sims.length).toFixed(4)}, ` +
      `${Math.round(bytes / photos.length / 1024)} KB avg`,
  );
}
