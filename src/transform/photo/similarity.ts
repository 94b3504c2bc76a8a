/**
 * How alike a fitted photo is to its source: SSIM (structural similarity, Wang et al. 2004) of the
 * two as greyscale at the same small size. A pure function over raw greyscale buffers, and a helper
 * that makes that pair with sharp. Used by the tests and the benchmark to hold the fitter to the
 * similarity bound in docs/photos.md; not run on every photo.
 */
import { loadSharp } from './sharp.js';

/** The SSIM constants for 8-bit samples: (0.01·255)² and (0.03·255)². */
const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

/**
 * Mean SSIM over 8×8 windows on a 4-pixel grid (overlapping by half), of two greyscale images of
 * the same size, one byte per pixel, row by row. 1 is identical; 0 unrelated. Uniform windows
 * rather than the paper's 11×11 Gaussian: the same ranking, cheaper, and the bound is set with it.
 */
export function ssim(a: Uint8Array, b: Uint8Array, width: number, height: number, window = 8): number {
  if (a.length !== width * height || b.length !== width * height) {
    throw new RangeError(
      `ssim needs two ${width}x${height} greyscale buffers, got ${a.length} and ${b.length} bytes`,
    );
  }
  if (width < window || height < window)
    throw new RangeError(`ssim needs images of at least ${window}x${window}`);
  const step = Math.max(1, window >> 1);
  const n = window * window;
  let total = 0;
  let windows = 0;
  for (let y = 0; y + window <= height; y += step) {
    for (let x = 0; x + window <= width; x += step) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let dy = 0; dy < window; dy++) {
        let k = (y + dy) * width + x;
        for (let dx = 0; dx < window; dx++, k++) {
          const va = a[k]!;
          const vb = b[k]!;
          sa += va;
          sb += vb;
          saa += va * va;
          sbb += vb * vb;
          sab += va * vb;
        }
      }
      const ma = sa / n;
      const mb = sb / n;
      const va = saa / n - ma * ma;
      const vb = sbb / n - mb * mb;
      const cov = sab / n - ma * mb;
      total += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      windows++;
    }
  }
  return total / windows;
}

/**
 * SSIM of a fitted photo against its source, both turned upright, made greyscale and scaled to
 * `width` pixels wide (the output's aspect ratio; the source is squeezed to it if they differ).
 */
export async function photoSimilarity(source: Buffer, fitted: Buffer, width = 640): Promise<number> {
  const sharp = await loadSharp();
  const meta = await sharp(fitted).metadata();
  const w = Math.min(width, meta.width ?? width);
  const h = Math.max(8, Math.round(((meta.height ?? w) * w) / (meta.width ?? w)));
  const grey = async (bytes: Buffer) =>
    sharp(bytes, { autoOrient: true })
      .resize(w, h, { fit: 'fill' })
      .flatten({ background: '#ffffff' })
      .greyscale()
      .raw()
      .toBuffer();
  const [a, b] = await Promise.all([grey(source), grey(fitted)]);
  return ssim(a, b, w, h);
}
