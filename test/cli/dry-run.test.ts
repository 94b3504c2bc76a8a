/**
 * `dry-run` as an operator meets it: departures held back by the entrance gate say so instead of
 * "rows: 0"; `--limit` limits event streams only (a lot table is shown whole); a bad `--limit`
 * names the flag; without Redis one line says so, with no client noise.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { type Harness, startHarness } from '../helpers/pipeline.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('dry-run', () => {
  it('says when departures wait for the entrance gate, limits event streams only, and names bad flags', async () => {
    harness = await startHarness({ seed: { lots: 12, visits: 40, photoRows: 0, days: 1 } });
    const env = harness.childEnv();

    // Nothing has polled yet: the entrance gate holds every departure back.
    const departures = await runCli(['dry-run', 'departures'], env);
    expect(departures.code, departures.stderr).toBe(0);
    const out = JSON.parse(departures.stdout) as { rows: number; heldBack?: string };
    expect(out.rows).toBe(0);
    expect(out.heldBack).toMatch(/held back by the entrances gate/);

    // Entrances are not gated; --limit bounds them.
    const entrances = JSON.parse((await runCli(['dry-run', 'entrances', '--limit', '3'], env)).stdout);
    expect(entrances.rows).toBe(3);
    expect(entrances.heldBack).toBeUndefined();

    // A lot table is read whole whatever --limit says.
    const parks = JSON.parse((await runCli(['dry-run', 'parks', '--limit', '2'], env)).stdout);
    expect(parks.payloads.length + parks.deleted.length + parks.quarantine.length).toBe(12);

    const bad = await runCli(['dry-run', 'entrances', '--limit', 'abc'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("option '--limit <n>' argument 'abc' is invalid");

    const down = await runCli(['dry-run', 'entrances'], { ...env, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.stderr.trim()).toMatch(/^Redis at 127\.0\.0\.1:1 .*unreachable: .*ECONNREFUSED/);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
  }, 90_000);
});
