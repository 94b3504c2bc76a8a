/**
 * Process-level memory settings of the long-running commands (`start`, `demo`), from config.memory.
 * Heap size limits (--max-old-space-size, --max-semi-space-size) are fixed when V8 starts and can
 * only come from the node command line or NODE_OPTIONS; the growth factor is read by V8 at every
 * full collection, so it can be set here, after the config is known.
 */
import { setFlagsFromString } from 'node:v8';
import type { Config } from '../config/index.js';

/**
 * The node flags the worker is run with: the Dockerfile's entrypoint, the bin's shebang and the
 * package scripts carry these (test/cli/memory.test.ts keeps them in step), and the benchmark
 * starts its workers with them.
 *
 * A 64 MB young generation (semi-spaces of 32 MB, against V8's 16): the pages in hand (rows read
 * ahead, records being delivered) survive each scavenge and are copied, and with 16 MB semi-spaces
 * scavenges took ~11% of the worker's time while draining a backlog (--trace-gc: 197 scavenges,
 * 0.9 s of an 8 s drain). Measured with it, three alternating runs: worker CPU 13.9-15.0 ->
 * 12.4-12.9 us per event, 58-62k -> 63-65k events/s, peak RSS +8 MB.
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=32'] as const;

/**
 * The environment the worker is run with where the package sets it up (the Dockerfile, the
 * systemd unit; test/cli/memory.test.ts keeps them in step), and the benchmark's workers: glibc
 * reads it when the process starts, so the process cannot set it for itself.
 *
 * Two malloc arenas instead of glibc's eight per core: each thread fitting photos (libvips) or
 * reading them (libuv's pool) otherwise takes an arena of its own, and freed photo buffers stay
 * spread over them. Measured on 2 cores (`PROBE_PHOTOS=oversize node bin/run-ts.js
 * test/bench/photo-sink-probe.ts 2 150`, with and without it, alternating): peak RSS fitting
 * oversize camera photos 446-477 -> 333-354 MB, page faults per photo 330-500 -> 110-180, CPU per
 * photo 53-57 -> 52-55 ms; photos under the limit unchanged or better (1.00 -> 0.94 ms CPU per event,
 * RSS 309-323 -> 290-293 MB). jemalloc (LD_PRELOAD) also cut the RSS but cost 30-60% more CPU per
 * photo here (1,500 page faults each). Unmeasured on many cores: raise it there if photo throughput
 * per core falls.
 */
export const WORKER_ENV = { MALLOC_ARENA_MAX: '2' } as const;

export function applyMemorySettings(memory: Config['memory']): void {
  if (memory.heapGrowthPercent > 0) setFlagsFromString(`--heap-growing-percent=${memory.heapGrowthPercent}`);
}

/**
 * Young-generation size set on the command line or in NODE_OPTIONS (any value: an operator may
 * choose a smaller one for memory); false when node runs with V8's default.
 */
export function youngGenerationSet(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): boolean {
  const flag = /(^|\s)--max-semi-space-size(=|\s)/;
  return execArgv.some((a) => a.startsWith('--max-semi-space-size')) || flag.test(nodeOptions);
}
