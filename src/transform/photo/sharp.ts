/**
 * The one place sharp (libvips) is loaded and set up for photo work. Loaded on the first photo that
 * needs pixels, not at start: a process that never re-encodes a photo (no photo columns, photos
 * already under the limit, the CLI) does not carry libvips and its threads (over 10 MB resident).
 */
type SharpFn = typeof import('sharp').default;

export type { SharpFn };

let sharpLoaded: Promise<SharpFn> | undefined;

export function loadSharp(): Promise<SharpFn> {
  sharpLoaded ??= import('sharp').then(({ default: sharp }) => {
    // Every photo is decoded once and never again: libvips' operation cache would only hold memory.
    sharp.cache(false);
    // One libvips thread per photo: photos run side by side, photo.concurrency of them (one per
    // core by default), so more threads per photo would only contend for the same cores. sharp's
    // own default is 1 on glibc without jemalloc but one per core elsewhere (cores² threads).
    sharp.concurrency(1);
    return sharp;
  });
  return sharpLoaded;
}
