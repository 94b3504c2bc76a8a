/** The README's configuration reference names every config key (stream keys as `streams.*.…`). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { configSchema, PROJECT_ROOT } from '../../src/config/index.js';

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; shape?: Record<string, z.ZodType> };
const defOf = (schema: unknown) => (schema as { _zod?: { def: Def } })._zod?.def;

function leafKeys(schema: unknown, path: string[] = [], out: string[] = []): string[] {
  let def = defOf(schema);
  while (def && ['optional', 'default', 'prefault', 'nullable', 'pipe'].includes(def.type)) {
    def = defOf(def.innerType ?? def.in);
  }
  if (def?.type === 'object' && def.shape) {
    for (const [key, value] of Object.entries(def.shape)) leafKeys(value, [...path, key], out);
  } else out.push(path.join('.'));
  return out;
}

describe('README', () => {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');

  it('has a quick start with the demo and the test command', () => {
    expect(readme).toMatch(/## Quick start/);
    expect(readme).toContain('npm run demo');
    expect(readme).toContain('npm test');
  });

  it('documents every config key', () => {
    const keys = leafKeys(configSchema);
    expect(keys.length).toBeGreaterThan(100);
    const missing = keys
      .map((k) => k.replace(/^streams\.(parks|spotNums|entrances|departures)\./, 'streams.*.'))
      .map((k) => k.replace(/^streams\.\*\.columns\..*/, 'streams.*.columns.*'))
      .filter((k) => !readme.includes(`\`${k}\``));
    expect([...new Set(missing)]).toEqual([]);
  });
});
