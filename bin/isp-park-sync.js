#!/usr/bin/env -S node --max-semi-space-size=32
// The package's one entry: runs src/cli.ts as plain JavaScript, from dist/ in a production install
// or compiled on demand in a development checkout (bin/compiled.js). The shebang's node flags are
// the worker's (src/cli/memory.ts WORKER_NODE_FLAGS).
import { availableParallelism } from 'node:os';
import { entryUrl } from './compiled.js';

// Photo work holds one libuv pool thread per photo in progress (photo.concurrency, one per core by
// default), beside file reads and DNS lookups: a pool of cores + 4 leaves those theirs. libuv reads
// this when the pool first starts, so it is set before any work; an operator's value wins.
process.env.UV_THREADPOOL_SIZE ??= String(availableParallelism() + 4);

const entry = entryUrl('src/cli.ts');
process.setSourceMapsEnabled(true);
await import(entry);
