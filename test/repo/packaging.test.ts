/**
 * What a production install holds and runs: no TypeScript compiler or loader among the production
 * dependencies (`npm ls --omit=dev`), and the compiled dist/ runs the CLI with only those
 * dependencies present; the tests themselves run on the Node the package declares.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.js';

const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Compilers and loaders of TypeScript; none may be a production dependency, direct or not. */
const TOOLCHAIN =
  /^(typescript|typescript-compiler|@typescript\/.*|tsx|ts-node|esbuild|@esbuild\/.*|@swc\/.*|sucrase|jiti|@babel\/core)$/;

/** Installed production packages, by name, from `npm ls --omit=dev --all --parseable`. */
function productionPackages(): Map<string, string> {
  const run = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
  });
  const paths = run.stdout.split('\n').filter((line) => line.includes(`${sep}node_modules${sep}`));
  expect(paths.length, run.stderr).toBeGreaterThan(50);
  const names = new Map<string, string>();
  for (const path of paths) {
    const parts = relative(PROJECT_ROOT, path).split(sep);
    const at = parts.lastIndexOf('node_modules');
    const name = parts[at + 1]?.startsWith('@') ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1]!;
    names.set(name, path);
  }
  return names;
}

describe('production dependencies', () => {
  it('hold no TypeScript compiler or loader (npm ls --omit=dev)', () => {
    const names = [...productionPackages().keys()];
    expect(names).toContain('bullmq');
    expect(names.filter((name) => TOOLCHAIN.test(name))).toEqual([]);
    expect(Object.keys(pkg.dependencies).filter((name) => TOOLCHAIN.test(name))).toEqual([]);
  });

  it('are run and tested on the declared Node (engines, image, .nvmrc)', () => {
    const major = Number(/^>=\s*(\d+)/.exec(pkg.engines.node)?.[1]);
    expect(major).toBeGreaterThanOrEqual(24);
    expect(
      Number(process.versions.node.split('.')[0]),
      `tests run on Node ${process.version}`,
    ).toBeGreaterThanOrEqual(major);
    const dockerfile = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
    const bases = [...dockerfile.matchAll(/^FROM node:(\d+)/gm)].map((m) => Number(m[1]));
    expect(bases.length).toBeGreaterThan(0);
    for (const base of bases) expect(base).toBe(major);
    expect(readFileSync(join(PROJECT_ROOT, '.nvmrc'), 'utf8').trim()).toBe(String(major));
    expect(pkg.devDependencies['@types/node']).toMatch(new RegExp(`^${major}\\.`));
  });
});

describe('the image', () => {
  it('copies only what .dockerignore lets in, which excludes everything else (secrets, .env, node_modules)', () => {
    const dockerfile = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
    const ignore = readFileSync(join(PROJECT_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = new Set(ignore.slice(1).map((line) => line.replace(/^!/, '')));
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) expect(allowed, source).toContain(source);
    for (const secret of ['.env', 'secrets', 'site', 'node_modules', 'dist', '.git'])
      expect(allowed).not.toContain(secret);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});

describe('a production install', () => {
  // Laid out as the image is: package.json, bin/, config/, dist/ (compiled here), and a
  // node_modules holding only the production packages (links to this checkout's copies).
  const root = mkdtempSync(join(tmpdir(), 'ips-prod-install-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  beforeAll(async () => {
    for (const entry of ['package.json', 'bin', 'config'])
      cpSync(join(PROJECT_ROOT, entry), join(root, entry), { recursive: true });
    const { compileTo, loadEsbuild } = (await import(join(PROJECT_ROOT, 'bin/compiled.js'))) as {
      compileTo(esbuild: unknown, files: string[], dir: string): void;
      loadEsbuild(): unknown;
    };
    const files = execFileSync('git', ['ls-files', 'src', 'jobs'], { cwd: PROJECT_ROOT, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(PROJECT_ROOT, f));
    compileTo(loadEsbuild(), files, join(root, 'dist'));
    mkdirSync(join(root, 'node_modules', '@types'), { recursive: true });
    for (const [name, path] of productionPackages()) {
      // Top-level packages only; nested ones come inside their parent.
      if (relative(join(PROJECT_ROOT, 'node_modules'), path).split(sep).includes('node_modules')) continue;
      mkdirSync(dirname(join(root, 'node_modules', name)), { recursive: true });
      symlinkSync(path, join(root, 'node_modules', name));
    }
  }, 60_000);

  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [join(root, 'bin/isp-park-sync.js'), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('has no compiler to fall back on', () => {
    const require = createRequire(join(root, 'bin', 'isp-park-sync.js'));
    for (const name of ['esbuild', 'tsx', 'typescript']) expect(() => require.resolve(name), name).toThrow();
    expect(basename(root)).toMatch(/^ips-prod-install-/);
  });

  it('runs the CLI from dist/: --version, --help, config, and start refusing an empty config', () => {
    const version = cli(['--version']);
    expect(version.stderr).toBe('');
    expect(version.stdout.trim()).toBe(pkg.version);
    expect(cli(['--help']).stdout).toMatch(/^\s+start\b/m);
    const config = cli(['config'], { ISP_CLIENT_SECRET: 'prod-install-secret' });
    expect(config.status, config.stderr).toBe(0);
    expect(config.stdout).toContain('car_inout');
    expect(config.stdout).not.toContain('prod-install-secret');
    const start = cli(['start']);
    expect(start.status).toBe(78);
    expect(start.stderr).toContain('VENDOR_DB_URL');
  });

  it('says what to do when dist/ is missing', () => {
    rmSync(join(root, 'dist', 'package.json'));
    const run = cli(['--version']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('npm run build');
  });
});
