#!/usr/bin/env node
// `npm run build`: compiles src/ and jobs/ into dist/ (esbuild, a devDependency). A production
// install then runs dist/ with no TypeScript compiler or loader (bin/compiled.js).
import { relative } from 'node:path';
import { buildDist, PACKAGE_ROOT } from './compiled.js';

const started = Date.now();
const dir = buildDist();
console.log(`built ${relative(PACKAGE_ROOT, dir)}/ in ${Date.now() - started} ms`);
