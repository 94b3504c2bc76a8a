/**
 * The README's promises (a quick start with the demo and the test command, a glossary before its
 * words are used), and the configuration reference (docs/configuration.md) naming every config key
 * (stream keys as `streams.*.…`) and every environment variable.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { configSchema, ENV_VARS, PROJECT_ROOT } from '../../src/config/index.js';

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

const read = (file: string) => readFileSync(join(PROJECT_ROOT, file), 'utf8');

describe('README', () => {
  const readme = read('README.md');

  it('has a quick start with the demo and the test command, and how to clean up', () => {
    const quick = readme.slice(readme.indexOf('## Quick start'));
    expect(quick).toMatch(/```sh\nnpm ci && npm run demo .*\nnpm ci && npm test .*\n```/);
    expect(quick).toContain('DROP DATABASE IF EXISTS isp_park_demo');
    expect(quick).toMatch(/node@24/);
  });

  it('defines the glossary words before any other section uses them', () => {
    const glossary = readme.indexOf('## Glossary');
    expect(glossary).toBeGreaterThan(0);
    const before = readme.slice(0, glossary).toLowerCase();
    for (const word of [
      'ledger',
      'quarantine',
      'failed set',
      'replay',
      'backfill',
      'full sync',
      'commit-lag',
      'stream',
    ]) {
      expect(before, word).not.toContain(word);
      expect(readme.slice(glossary), word).toMatch(new RegExp(`\\*\\*${word}`, 'i'));
    }
  });
});

describe('docs/configuration.md', () => {
  const reference = read('docs/configuration.md');

  it('documents every config key', () => {
    const keys = leafKeys(configSchema);
    expect(keys.length).toBeGreaterThan(100);
    const missing = keys
      .map((k) => k.replace(/^streams\.(parks|spotNums|entrances|departures)\./, 'streams.*.'))
      .map((k) => k.replace(/^streams\.\*\.columns\..*/, 'streams.*.columns.*'))
      .filter((k) => !reference.includes(`\`${k}\``));
    expect([...new Set(missing)]).toEqual([]);
  });

  it('lists every environment variable', () => {
    for (const v of ENV_VARS) expect(reference, v.name).toContain(`| \`${v.name}\` |`);
  });
});
