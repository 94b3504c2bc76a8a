/**
 * Graceful shutdown of a real `isp-park-sync start` process: SIGTERM lets active pushes finish
 * and exits 0; a restarted worker delivers the rest; nothing is lost or sent twice. A second
 * signal exits at once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { expectedEvents } from '../helpers/expected.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

let harness: Harness | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children.length = 0;
  await harness?.close();
  harness = undefined;
});

function startWorker(h: Harness): {
  child: ChildProcess;
  exit: Promise<number | null>;
  output: () => string;
} {
  const child = spawn('node', [join(PROJECT_ROOT, 'bin/isp-park-sync.js'), 'start', '--no-web'], {
    env: h.childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exit, output: () => output };
}

describe('graceful shutdown', () => {
  it('finishes active pushes on SIGTERM, exits 0, and a restart delivers the rest exactly once', async () => {
    harness = await startHarness({
      seed: { lots: 3, visits: 600, photos: false, days: 1 },
      faults: { latencyMs: 400 },
    });
    const h = harness;
    const first = startWorker(h);
    await waitFor('pushes under way', () => h.sim.state.store.count('entrance') > 0, 30_000);
    first.child.kill('SIGTERM');
    expect(await first.exit, first.output()).toBe(0);
    expect(first.output()).not.toContain(h.config.isp.auth.clientSecret!);

    const expected = await expectedEvents(h.db.admin, h.style);
    const second = startWorker(h);
    await waitFor(
      'everything delivered after the restart',
      () =>
        h.sim.state.store.count('entrance') >= expected.entrances.length &&
        h.sim.state.store.count('departure') >= expected.departures.length,
      90_000,
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect(h.sim.state.store.count('entrance')).toBe(expected.entrances.length);
    expect(h.sim.state.store.count('departure')).toBe(expected.departures.length);
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
  }, 150_000);

  it('exits at once on a second signal', async () => {
    harness = await startHarness({
      seed: { lots: 2, visits: 200, photos: false, days: 1 },
      faults: { latencyMs: 5_000 },
    });
    const h = harness;
    const worker = startWorker(h);
    // A push is waiting on the slow ISP.
    await waitFor('a push in flight', () => h.sim.state.stats().requests.total >= 2, 30_000);
    worker.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    worker.child.kill('SIGTERM');
    expect(await worker.exit).toBe(130);
  }, 60_000);
});
