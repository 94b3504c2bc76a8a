/**
 * Finds the JavaScript to run for a TypeScript entry of src/ or jobs/. Two cases:
 *
 * - A production install (`npm ci --omit=dev`, the image) has no compiler: it runs `dist/`, built
 *   by `npm run build` (bin/build.js) where the devDependencies are installed.
 * - A development checkout (esbuild installed as a devDependency, src/ present) compiles the
 *   sources once per content (esbuild: types stripped, nothing bundled, same file layout) into
 *   node_modules/.cache/isp-park-sync/<hash>/ and runs that, so an edit needs no build step and
 *   no TypeScript loader thread stays in a running worker.
 *
 * Source maps keep stack traces on the .ts lines in both.
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
export const DIST_DIR = join(PACKAGE_ROOT, 'dist');
const SOURCE_DIRS = ['src', 'jobs'];
const CACHE_DIR = join(PACKAGE_ROOT, 'node_modules', '.cache', 'isp-park-sync');
/** Builds of other source states not used for this long are removed. */
const KEEP_MS = 24 * 3600 * 1000;

/** esbuild when the devDependencies are installed; undefined in a production install. */
export function loadEsbuild() {
  try {
    return createRequire(import.meta.url)('esbuild');
  } catch (error) {
    if (error?.code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

function sourceFiles() {
  return SOURCE_DIRS.flatMap((dir) => tsFiles(join(PACKAGE_ROOT, dir), [])).sort();
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
 * The file URL to import for `entry` (a path under src/ or jobs/ relative to the package, e.g.
 * `src/cli.ts`). Exits the process with a message when there is nothing to run.
 */
export function entryUrl(entry) {
  const esbuild = existsSync(join(PACKAGE_ROOT, 'src')) ? loadEsbuild() : undefined;
  if (esbuild) {
    const dir = cachedBuild(esbuild);
    if (dir) return pathToFileURL(join(dir, entry.replace(/\.ts$/, '.js'))).href;
  }
  if (existsSync(join(DIST_DIR, 'package.json'))) {
    return pathToFileURL(join(DIST_DIR, entry.replace(/\.ts$/, '.js'))).href;
  }
  console.error(
    esbuild
      ? `isp-park-sync: cannot write the compile cache ${CACHE_DIR} and there is no build in ${DIST_DIR}; run \`npm run build\``
      : `isp-park-sync: no build in ${DIST_DIR}. Run \`npm ci && npm run build\` (the build needs the devDependencies; ` +
          '`npm prune --omit=dev` may follow), or use the image.',
  );
  process.exit(1);
}

/** The cache folder of the current sources, compiled now when needed; undefined when it cannot be written. */
function cachedBuild(esbuild) {
  const files = sourceFiles();
  const hash = createHash('sha256').update(`${process.version}\0${esbuild.version}\0`);
  // The build's own inputs besides the sources: this file (the options) and tsconfig.json.
  for (const file of [fileURLToPath(import.meta.url), join(PACKAGE_ROOT, 'tsconfig.json'), ...files])
    hash.update(relative(PACKAGE_ROOT, file)).update('\0').update(readFileSync(file));
  const id = hash.digest('hex').slice(0, 16);
  const dir = join(CACHE_DIR, id);
  // package.json is written last: its presence marks a complete build.
  if (existsSync(join(dir, 'package.json'))) {
    touch(dir);
    return dir;
  }
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
  } catch {
    return undefined;
  }
  compileTo(esbuild, files, dir);
  prune(id);
  return dir;
}

/**
 * Compiles `files` into `dir` (replaced whole, atomically: built beside it and renamed). A compile
 * error is printed with its file and line, and ends the process.
 */
export function compileTo(esbuild, files, dir) {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    try {
      esbuild.buildSync({
        entryPoints: files,
        outdir: tmp,
        outbase: PACKAGE_ROOT,
        bundle: false,
        format: 'esm',
        platform: 'node',
        target: 'node24',
        tsconfig: join(PACKAGE_ROOT, 'tsconfig.json'),
        sourcemap: 'linked',
        sourcesContent: false,
        logLevel: 'silent',
      });
    } catch (error) {
      console.error(`isp-park-sync: the TypeScript sources do not compile:\n${error.message}`);
      process.exit(1);
    }
    // "type": "module" for the .js files; the version for src/pipeline/status.ts.
    const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
    writeFileSync(
      join(tmp, 'package.json'),
      `${JSON.stringify({ name: 'isp-park-sync-compiled', private: true, type: 'module', version })}\n`,
    );
    if (dir === DIST_DIR) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch (error) {
      // Another process built the same sources at the same time: use its build.
      if (!existsSync(join(dir, 'package.json'))) throw error;
    }
  } finally {
    // buildSync runs in a worker thread that esbuild keeps for further calls: end it.
    esbuild.stop?.();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** `npm run build`: src/ and jobs/ into dist/, for a production install without a compiler. */
export function buildDist() {
  const esbuild = loadEsbuild();
  if (!esbuild) {
    console.error('isp-park-sync build: esbuild is missing; install the devDependencies first (`npm ci`)');
    process.exit(1);
  }
  compileTo(esbuild, sourceFiles(), DIST_DIR);
  return DIST_DIR;
}

function touch(dir) {
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch {
    // A read-only cache (built as another user) still serves.
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
