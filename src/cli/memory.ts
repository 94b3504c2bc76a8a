/**
 * Process-level memory settings of the long-running commands (`start`, `demo`), from config.memory.
 * Heap size limits (--max-old-space-size, --max-semi-space-size) are fixed when V8 starts and can
 * only come from the node command line or NODE_OPTIONS; the growth factor is read by V8 at every
 * full collection, so it can be set here, after the config is known.
 */
import { setFlagsFromString } from 'node:v8';
import type { Config } from '../config/index.js';

export function applyMemorySettings(memory: Config['memory']): void {
  if (memory.heapGrowthPercent > 0) setFlagsFromString(`--heap-growing-percent=${memory.heapGrowthPercent}`);
}
