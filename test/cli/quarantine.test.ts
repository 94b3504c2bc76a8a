import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningWorkers, startWorkers } from '../../jobs/workers.js';
import { silentLogger } from '../../src/log.js';
import { createRuntime, type Runtime } from '../../src/pipeline/runtime.js';
import { seedDemo } from '../../src/sim/demo-vendor/index.js';
import { runCli } from '../helpers/cli.js';
import { type Harness, startHarness, waitFor } from '../helpers/pipeline.js';

let harness: Harness | undefined;
let fixed: { rt: Runtime; workers: RunningWorkers } | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await fixed?.workers.close();
  await fixed?.rt.close();
  fixed = undefined;
  await harness?.close();
  harness = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface ListedEntry {
  id: string;
  stream: string;
  count: number;
  reasons: Array<{ code: string; message: string }>;
}

describe('quarantine command', () => {
  it('lists bad rows with reasons, and after a config fix re-drives them: delivered once, bad ones kept', async () => {
    harness = await startHarness({ seed: false, config: { photo: { onMissing: 'quarantine' } } });
    const h = harness;
    const report = await seedDemo(h.db.url, 'visit-table', {
      lots: 3,
      visits: 40,
      photoRows: 40,
      days: 1,
      bad: true,
      photoDir: h.photoDir,
    });
    // A lot with a latitude and no longitude (a lot outside China is sent without coordinates).
    await h.db.admin.query(
      "INSERT INTO parkinfo (park_no, park_name, lng, lat, total_num, used_num) VALUES ('BADLOT/1', 'x', NULL, 36, 10, 0)",
    );
    const badKey = (kind: string, stream: string) =>
      `${stream}:${report.bad.find((b) => b.kind === kind && b.stream === stream)!.vendorKey}`;
    await h.start();

    // Settled: every vendor row is either at the simulator or in the quarantine.
    await waitFor('every row delivered or quarantined', async () => {
      const q = await h.rt.quarantine.counts();
      return (
        h.sim.state.store.count('entrance') + q.entrances === report.entrances &&
        h.sim.state.store.count('departure') + q.departures === report.departures &&
        q.parks === 1
      );
    });
    await h.stopWorkers();
    const before = await h.rt.quarantine.counts();
    expect(before.entrances).toBeGreaterThanOrEqual(2);

    // The CLI runs with the worker's config: a layer over the preset, as an operator would have it.
    const dir = mkdtempSync(join(tmpdir(), 'ips-config-'));
    dirs.push(dir);
    const layer = (name: string, onMissing: string) => {
      const file = join(dir, name);
      writeFileSync(file, `photo:\n  onMissing: ${onMissing}\n`);
      return { ...h.childEnv(), ISP_SYNC_CONFIG: `config/presets/visit-table.yaml,${file}` };
    };
    const env = layer('deployed.yaml', 'quarantine');
    const list = await runCli(['quarantine', 'list', '--limit', '100'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(`quarantined: parks 1, spotNums 0, entrances ${before.entrances}`);
    expect(list.stdout).toMatch(new RegExp(`${badKey('zero-date', 'entrances')}\\s.*zero-date`));
    expect(list.stdout).toMatch(new RegExp(`${badKey('negative-fee', 'departures')}\\s.*negative-fee`));
    expect(list.stdout).toMatch(new RegExp(`${badKey('missing-photo', 'entrances')}\\s.*missing-photo`));
    expect(list.stdout).toMatch(/parks:BADLOT\/1\s.*missing-field/);

    const show = await runCli(['quarantine', 'show', badKey('zero-date', 'entrances')], env);
    expect(show.code, show.stderr).toBe(0);
    const shown = JSON.parse(show.stdout) as ListedEntry & { row: Record<string, unknown> };
    expect(shown.row.enterTime).toBe('0000-00-00 00:00:00');
    expect(shown.reasons.map((r) => r.code)).toContain('zero-date');
    const missing = await runCli(['quarantine', 'show', 'entrances:nope'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no quarantined row "entrances:nope"');

    // Retried with the unchanged config: the photo is still unusable, the row stays.
    const photoRow = badKey('missing-photo', 'entrances');
    const unchanged = await runCli(['quarantine', 'retry', photoRow], env);
    expect(unchanged.code, unchanged.stderr).toBe(0);
    expect(unchanged.stdout).toContain(`${photoRow}: still bad, kept: missing-photo`);

    // The fix: send events with an empty photo. The worker restarts with it, then the re-drive.
    const fixedConfig = { ...h.config, photo: { ...h.config.photo, onMissing: 'empty' as const } };
    const rt = createRuntime(fixedConfig, { logger: silentLogger });
    fixed = { rt, workers: await startWorkers(rt, new Set(['pusher'])) };
    const fixedEnv = layer('fixed.yaml', 'empty');
    const retry = await runCli(['quarantine', 'retry', '--all'], fixedEnv);
    expect(retry.code, retry.stderr).toBe(0);
    const requeued = Number(/requeued (\d+)/.exec(retry.stdout)?.[1]);
    const stillBad = Number(/still bad (\d+)/.exec(retry.stdout)?.[1]);
    expect(requeued).toBeGreaterThanOrEqual(2);
    expect(retry.stdout).toContain(`${photoRow}: good now, push job`);
    expect(retry.stdout).toMatch(/parks:BADLOT\/1: released; .*would still fail: missing-field/);
    expect(retry.stdout).toContain(`released 1, still bad ${stillBad}`);
    expect(requeued + stillBad + 1).toBe(before.entrances + before.departures + before.parks);

    // Every row that is good now arrives, exactly once.
    await waitFor(
      're-driven rows delivered',
      async () => {
        const q = await rt.quarantine.counts();
        return (
          h.sim.state.store.count('entrance') + q.entrances === report.entrances &&
          h.sim.state.store.count('departure') + q.departures === report.departures
        );
      },
      30_000,
    );
    const stats = h.sim.state.stats();
    expect(stats.duplicates.entrance).toBe(0);
    expect(stats.duplicates.departure).toBe(0);

    const after = await runCli(['quarantine', 'list', '--json', '--limit', '100'], fixedEnv);
    const listed = JSON.parse(after.stdout) as { entries: ListedEntry[] };
    expect(listed.entries).toHaveLength(stillBad);
    const ids = listed.entries.map((e) => e.id);
    expect(ids).toContain(badKey('zero-date', 'entrances'));
    expect(ids).toContain(badKey('negative-fee', 'departures'));
    expect(ids).not.toContain('parks:BADLOT/1');
    for (const e of listed.entries) {
      expect(e.count, e.id).toBeGreaterThanOrEqual(2);
      for (const r of e.reasons) expect(r.code).not.toMatch(/photo/);
    }
  }, 120_000);
});
