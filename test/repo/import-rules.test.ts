/**
 * The import rules (.dependency-cruiser.cjs, run by `npm run lint:imports` in `npm test`) hold for
 * the product, and they are not vacuous: a tree with one upward import, one sideways import between
 * the transforms and the vendor database, and one cycle fails with each named.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');

async function cruise(cwd: string, paths: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [DEPCRUISE, ...paths, '--config', CONFIG, '--output-type', 'err'],
      { cwd },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('import rules', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function tree(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'import-rules-'));
    dirs.push(dir);
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext' } }));
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    return dir;
  }

  it('hold for the product', async () => {
    const { code, output } = await cruise(ROOT, ['src', 'jobs', 'bin']);
    expect(output).toContain('no dependency violations found');
    expect(code).toBe(0);
  });

  it('fail on an upward import, a sideways import and a cycle, naming each', async () => {
    const dir = await tree({
      'src/pipeline/poll.ts':
        "import { transform } from '../transform/row.js';\nexport const poll = transform;\n",
      // Upward: a transform reaching into the pipeline.
      'src/transform/row.ts':
        "import { poll } from '../pipeline/poll.js';\nexport const transform = () => poll;\n",
      // Sideways: a transform reading the vendor database.
      'src/transform/lot.ts': "import { read } from '../vendor-db/read.js';\nexport const lot = read;\n",
      'src/vendor-db/read.ts': 'export const read = 1;\n',
      // Allowed: downward.
      'src/transform/ok.ts': "import { LIMIT } from '../isp-spec/limits.js';\nexport const ok = LIMIT;\n",
      'src/isp-spec/limits.ts': 'export const LIMIT = 1;\n',
    });
    const { code, output } = await cruise(dir, ['src']);
    expect(code).not.toBe(0);
    expect(output).toMatch(/transform-imports-only-below: src\/transform\/row\.ts → src\/pipeline\/poll\.ts/);
    expect(output).toMatch(
      /transform-imports-only-below: src\/transform\/lot\.ts → src\/vendor-db\/read\.ts/,
    );
    expect(output).toMatch(/no-circular/);
    expect(output).not.toMatch(/ok\.ts/);
  });

  it('pass a tree whose imports all point down', async () => {
    const dir = await tree({
      'src/pipeline/poll.ts':
        "import { transform } from '../transform/row.js';\nexport const poll = transform;\n",
      'src/transform/row.ts':
        "import { LIMIT } from '../isp-spec/limits.js';\nexport const transform = LIMIT;\n",
      'src/isp-spec/limits.ts': 'export const LIMIT = 1;\n',
    });
    const { code, output } = await cruise(dir, ['src']);
    expect(output).toContain('no dependency violations found');
    expect(code).toBe(0);
  });
});
