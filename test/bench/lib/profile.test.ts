/** The --profile summary: modules of ours as the worker runs them, the caller of ours, a window. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarizeProfiles } from './profile.js';

const CACHE = 'file:///srv/app/node_modules/.cache/isp-park-sync/91933e560d630ee9';

/** root → poll (ours, compiled) → ioredis send → native write; root → idle. One sample per ms. */
function profileFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ips-profile-'));
  const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 5] },
      { id: 2, callFrame: frame('caughtUp', `${CACHE}/src/state/stream-progress.js`), children: [3] },
      {
        id: 3,
        callFrame: frame('sendCommand', 'file:///srv/app/node_modules/ioredis/built/Redis.js'),
        children: [4],
      },
      { id: 4, callFrame: frame('writeUtf8String') },
      { id: 5, callFrame: frame('(idle)') },
    ],
    // 0-9 ms: the write (native, for caughtUp); 10-39 ms: idle; 40-49 ms: ioredis itself.
    samples: [...Array(10).fill(4), ...Array(30).fill(5), ...Array(10).fill(3)],
    timeDeltas: Array(50).fill(1000),
    startTime: 0,
    endTime: 50_000,
  };
  writeFileSync(join(dir, 'CPU.1.4242.0.001.cpuprofile'), JSON.stringify(profile));
  return dir;
}

describe('profile summary', () => {
  it('counts compiled modules of ours as ours and names the function of ours each sample was for', () => {
    const [summary] = summarizeProfiles(profileFile(), 10, '.4242.');
    expect(Object.fromEntries(summary!.shares)).toEqual({
      idle: 0.6,
      'native: writeUtf8String': 0.2,
      ioredis: 0.2,
    });
    expect(summary!.callers).toEqual([['caughtUp src/state/stream-progress.js', 0.4]]);
    expect(summary!.seconds).toBeCloseTo(0.05);
  });

  it('keeps to a window before the end of the profile', () => {
    const [summary] = summarizeProfiles(profileFile(), 10, '', { fromMsBeforeEnd: 20, toMsBeforeEnd: 0 });
    // The last 20 ms: 10 idle, 10 in ioredis.
    expect(Object.fromEntries(summary!.shares)).toEqual({ idle: 0.5, ioredis: 0.5 });
  });
});
