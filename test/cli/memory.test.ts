/**
 * The worker's node flags (src/cli/memory.ts WORKER_NODE_FLAGS) are set in one place and carried
 * by every way the package starts a worker: the image's entrypoint, the bin's shebang and the
 * package scripts, with the worker environment (WORKER_ENV) in the image and the systemd unit. A
 * start without the flags is told so in its log.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKER_ENV, WORKER_NODE_FLAGS, youngGenerationSet } from '../../src/cli/memory.js';
import { PROJECT_ROOT } from '../../src/config/index.js';

const read = (file: string) => readFileSync(join(PROJECT_ROOT, file), 'utf8');
const flags = WORKER_NODE_FLAGS.join(' ');

describe('worker node flags', () => {
  it('are those of the Dockerfile entrypoint', () => {
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(read('Dockerfile'))?.[1];
    expect(JSON.parse(entrypoint!)).toEqual(['node', ...WORKER_NODE_FLAGS, 'bin/isp-park-sync.js']);
  });

  it("are those of the bin's shebang", () => {
    expect(read('bin/isp-park-sync.js').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
  });

  it('are those of npm start and npm run demo', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe(`node ${flags} bin/isp-park-sync.js start`);
    expect(scripts.demo).toBe(`node ${flags} bin/isp-park-sync.js demo`);
  });

  it('come with the worker environment in the image and in the systemd unit', () => {
    const image = read('Dockerfile');
    const unit = read('deploy/isp-park-sync.service');
    for (const [name, value] of Object.entries(WORKER_ENV)) {
      expect(image).toMatch(new RegExp(`^ENV ${name}=${value}$`, 'm'));
      expect(unit).toMatch(new RegExp(`^Environment=${name}=${value}$`, 'm'));
    }
  });

  it('are recognised when set, on the command line or in NODE_OPTIONS, whatever the value', () => {
    expect(youngGenerationSet([...WORKER_NODE_FLAGS], '')).toBe(true);
    expect(youngGenerationSet(['--max-semi-space-size=8'], '')).toBe(true);
    expect(youngGenerationSet([], '--max-old-space-size=256 --max-semi-space-size=8')).toBe(true);
    expect(youngGenerationSet(['--enable-source-maps'], '--max-old-space-size=256')).toBe(false);
    expect(youngGenerationSet([], '')).toBe(false);
  });
});
