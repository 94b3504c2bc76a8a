#!/usr/bin/env node
// The package's one entry: runs src/cli.ts, compiled to plain JS (bin/compiled.js) so that no
// loader thread stays in the process; with tsx's loader when that is not possible.
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
