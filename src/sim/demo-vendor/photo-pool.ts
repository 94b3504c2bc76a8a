/**
 * A small pool of camera-like JPEGs (src/sim/camera-jpeg.ts) shared by the seeder and the traffic
 * generator: mostly small frames, plus two over 512 KB so the photo fitting is exercised. Generated
 * once per process; files for the picture-folder style are hard links to one copy of each.
 */
import { copyFile, link, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { makeCameraJpeg } from '../camera-jpeg.js';

export interface PhotoPool {
  jpegs: Buffer[];
}

/** Small ones first; the last two are the large ones (data.ts picks them now and then). */
const SHAPES = [
  { width: 640, height: 360, quality: 70 },
  { width: 640, height: 360, quality: 75 },
  { width: 704, height: 396, quality: 70 },
  { width: 640, height: 360, quality: 80 },
  { width: 720, height: 405, quality: 72 },
  { width: 640, height: 360, quality: 65 },
  { width: 800, height: 450, quality: 80 },
  { width: 1280, height: 720, quality: 85 },
  { width: 1920, height: 1080, quality: 95 },
  { width: 1920, height: 1080, quality: 92, detail: 2 },
];

let shared: Promise<PhotoPool> | undefined;

export function photoPool(): Promise<PhotoPool> {
  shared ??= Promise.all(SHAPES.map((shape, i) => makeCameraJpeg({ ...shape, seed: 101 + i }))).then(
    (jpegs) => ({ jpegs }),
  );
  return shared;
}

const poolFiles = new Map<string, Promise<void>>();

/** The pooled copies under `root/.pool/`, written once per process and root. */
function ensurePoolFiles(pool: PhotoPool, root: string): Promise<void> {
  let ready = poolFiles.get(root);
  if (!ready) {
    ready = (async () => {
      await mkdir(join(root, '.pool'), { recursive: true });
      await Promise.all(pool.jpegs.map((jpeg, i) => writeFile(join(root, '.pool', `cam_${i}.jpg`), jpeg)));
    })();
    poolFiles.set(root, ready);
  }
  return ready;
}

/** Writes pool photo `index` at `root/relative` (a hard link to the pooled copy when possible). */
export async function placePhotoFile(
  pool: PhotoPool,
  index: number,
  root: string,
  relative: string,
): Promise<void> {
  await ensurePoolFiles(pool, root);
  const target = join(root, relative);
  await mkdir(dirname(target), { recursive: true });
  const source = join(root, '.pool', `cam_${index}.jpg`);
  try {
    await link(source, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code === 'ENOENT') {
      // The folder was emptied since the pool was written: write it again.
      poolFiles.delete(root);
      await ensurePoolFiles(pool, root);
    }
    await copyFile(source, target); // or no hard links on this file system
  }
}
