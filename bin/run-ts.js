#!/usr/bin/env node
// Runs one TypeScript file (benchmarks, scripts) with tsx's loader: a development tool, so tsx is a
// devDependency and this needs `npm ci` (not `--omit=dev`).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const file = process.argv[2];
if (!file) {
  console.error('usage: run-ts.js <file.ts> [args...]');
  process.exit(2);
}
let register;
try {
  ({ register } = await import('tsx/esm/api'));
} catch {
  console.error('run-ts.js needs the devDependencies (tsx): run `npm ci`');
  process.exit(1);
}
register();
process.argv.splice(2, 1);
await import(pathToFileURL(resolve(file)).href);
