/**
 * Runs the TypeScript sources without a loader thread. tsx's loader (module.register) runs its hooks
 * in a second V8 isolate that stays for the life of the process, ~30 MB resident for a worker that
 * needs no compiler once it has started. Instead, src/ and jobs/ are compiled once per content (with
 * esbuild, the compiler tsx uses: types stripped, nothing bundled, same file layout) into
 * node_modules/.cache/isp-park-sync/<hash>/, and the entry is imported from there as plain ESM.
 * Source maps keep stack traces on the .ts lines.
 *
 * `compiledEntry` returns undefined when it cannot (no writable cache and none built, esbuild
 * missing, a compile error): the caller then falls back to tsx, which reports a compile error itself.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['src', 'jobs'];
const CACHE_DIR = join(PACKAGE_ROOT, 'node_modules', '.cache', 'isp-park-sync');
/** Builds of other source states not used for this long are removed. */
const KEEP_MS = 24 * 3600 * 1000;

/** esbuild as tsx resolves it (tsx is a dependency; esbuild is tsx's). */
function esbuildRequire() {
  return createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
}

function tsFiles(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) tsFiles(path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * The compiled URL of `entry` (a .ts file under src/ or jobs/), compiling first when the sources
 * changed; undefined when that is not possible.
 */
export function compiledEntry(entry) {
  try {
    const files = SOURCE_DIRS.flatMap((dir) => tsFiles(join(PACKAGE_ROOT, dir), [])).sort();
    const require = esbuildRequire();
    const esbuildVersion = require('esbuild/package.json').version;
    const hash = createHash('sha256').update(`${process.version}\0${esbuildVersion}\0`);
    // The build's own inputs besides the sources: this file (the options) and tsconfig.json.
    for (const file of [fileURLToPath(import.meta.url), join(PACKAGE_ROOT, 'tsconfig.json'), ...files])
      hash.update(relative(PACKAGE_ROOT, file)).update('\0').update(readFileSync(file));
    const id = hash.digest('hex').slice(0, 16);
    const dir = join(CACHE_DIR, id);
    // package.json is written last: its presence marks a complete build.
    if (existsSync(join(dir, 'package.json'))) touch(dir);
    else build(require('esbuild'), files, dir);
    prune(id);
    return pathToFileURL(join(dir, relative(PACKAGE_ROOT, entry).replace(/\.ts$/, '.js'))).href;
  } catch {
    return undefined;
  }
}

function build(esbuild, files, dir) {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    esbuild.buildSync({
      entryPoints: files,
      outdir: tmp,
      outbase: PACKAGE_ROOT,
      bundle: false,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node}`,
      tsconfig: join(PACKAGE_ROOT, 'tsconfig.json'),
      sourcemap: 'linked',
      sourcesContent: false,
      logLevel: 'silent',
    });
    // "type": "module" for the .js files; the version for src/pipeline/status.ts.
    const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
    writeFileSync(
      join(tmp, 'package.json'),
      `${JSON.stringify({ name: 'isp-park-sync-compiled', private: true, type: 'module', version })}\n`,
    );
    try {
      renameSync(tmp, dir);
    } catch (error) {
      // Another process built the same sources at the same time: use its build.
      if (!existsSync(join(dir, 'package.json'))) throw error;
    }
  } finally {
    // buildSync runs in a worker thread that esbuild keeps for further calls: end it.
    esbuild.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

function touch(dir) {
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch {
    // A read-only cache (an image built as another user) still serves.
  }
}

/** Removes builds of older sources (and abandoned temporary folders) unused for a day. */
function prune(current) {
  try {
    for (const name of readdirSync(CACHE_DIR)) {
      if (name === current) continue;
      const path = join(CACHE_DIR, name);
      if (Date.now() - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { recursive: true, force: true });
    }
  } catch {
    // Best effort.
  }
}
