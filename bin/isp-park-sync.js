#!/usr/bin/env -S node --max-semi-space-size=32
// The package's one entry: runs src/cli.ts, compiled to plain JS (bin/compiled.js) so that no
// loader thread stays in the process; with tsx's loader when that is not possible. The shebang's
// node flags are the worker's (src/cli/memory.ts WORKER_NODE_FLAGS).
import { fileURLToPath } from 'node:url';
import { compiledEntry } from './compiled.js';

const entry = compiledEntry(fileURLToPath(new URL('../src/cli.ts', import.meta.url)));
if (entry) {
  process.setSourceMapsEnabled(true);
  await import(entry);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
