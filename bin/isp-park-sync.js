#!/usr/bin/env -S node --max-semi-space-size=32
// The package's one entry: runs src/cli.ts as plain JavaScript, from dist/ in a production install
// or compiled on demand in a development checkout (bin/compiled.js). The shebang's node flags are
// the worker's (src/cli/memory.ts WORKER_NODE_FLAGS).
import { entryUrl } from './compiled.js';

const entry = entryUrl('src/cli.ts');
process.setSourceMapsEnabled(true);
await import(entry);
