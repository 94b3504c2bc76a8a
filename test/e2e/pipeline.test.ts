/**
 * End to end on both demo schema styles: seed, run the traffic generator, and every vendor event
 * reaches the simulator exactly once with the right payload (compared field by field against
 * test/helpers/expected.ts), lots and latest spot counts included.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PHOTO_MAX_BYTES } from '../../src/isp-spec/index.js';
import type { StatusSnapshot } from '../../src/pipeline/status-types.js';
import { startTraffic } from '../../src/sim/demo-vendor/index.js';
import { runCli } from '../helpers/cli.js';
import {
  departuresAfterEntrances,
  type ExpectedEvent,
  expectedEvents,
  receivedAt,
} from '../helpers/expected.js';
import { type Harness, LATE_HOLD_MS, startHarness, waitFor } from '../helpers/pipeline.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

type Wire = Record<string, unknown>;

function received(h: Harness, kind: 'entrance' | 'departure' | 'park' | 'spot-num'): Wire[] {
  return h.sim.state.received(kind, 0, 1_000_000).map((e) => e.record as Wire);
}

function compare(kind: string, expected: ExpectedEvent[], got: Wire[], timeField: string) {
  const byKey = new Map<string, Wire[]>();
  for (const w of got) {
    const key = `${w.park_code}|${w.plate_number}|${w[timeField]}`;
    byKey.set(key, [...(byKey.get(key) ?? []), w]);
  }
  const expectedCount = new Map<string, number>();
  for (const e of expected) expectedCount.set(e.key, (expectedCount.get(e.key) ?? 0) + 1);
  for (const [key, count] of expectedCount) {
    expect(byKey.get(key)?.length ?? 0, `${kind} ${key} delivered exactly ${count}x`).toBe(count);
  }
  expect(got.length, `${kind}: nothing extra`).toBe(expected.length);
  const photoField = kind === 'entrance' ? 'enter_pic' : 'depart_pic';
  // Two no-plate cars at one lot in the same second share a natural key: compare such groups as
  // multisets of field values.
  const expectedByKey = new Map<string, ExpectedEvent[]>();
  for (const e of expected) expectedByKey.set(e.key, [...(expectedByKey.get(e.key) ?? []), e]);
  for (const [key, group] of expectedByKey) {
    const wires = byKey.get(key)!;
    const fields = Object.keys(group[0]!.fields);
    const project = (values: Record<string, unknown>) => JSON.stringify(fields.map((f) => values[f]));
    expect(wires.map(project).sort(), `${kind} ${key} fields`).toEqual(
      group.map((e) => project(e.fields)).sort(),
    );
    for (const e of group) {
      for (const [field, value] of Object.entries(e.fields)) {
        if (group.length === 1) expect(wires[0]![field], `${kind} ${key} ${field}`).toEqual(value);
      }
    }
    const pics = wires.map((w) => String(w[photoField]));
    expect(pics.filter((p) => p !== '').length, `${kind} ${key} photos`).toBe(
      group.filter((e) => e.photo).length,
    );
    for (const pic of pics.filter((p) => p !== '')) {
      expect(pic.startsWith('data:image/jpg;base64,'), `${kind} ${key} photo is a JPEG data URI`).toBe(true);
      expect(Buffer.byteLength(pic)).toBeLessThanOrEqual(PHOTO_MAX_BYTES);
    }
  }
}

describe.each(['visit-table', 'entry-exit'] as const)('end to end, %s style', (style) => {
  it('delivers every vendor event exactly once with the right payload', async () => {
    harness = await startHarness({ style, seed: { lots: 6, visits: 300, photoRows: 40, days: 2 } });
    const h = harness;
    await h.start();
    const traffic = await startTraffic(h.db.url, style, {
      ratePerSecond: 15,
      durationMs: 4_000,
      holdMs: LATE_HOLD_MS,
      photoDir: h.photoDir,
      seed: 7,
    });
    const report = await traffic.done;
    expect(report.counts.entrances).toBeGreaterThan(0);
    const expected = await expectedEvents(h.db.admin, style);
    await waitFor(
      'all events at the simulator',
      () =>
        h.sim.state.store.count('entrance') >= expected.entrances.length &&
        h.sim.state.store.count('departure') >= expected.departures.length,
      90_000,
    );
    // A moment more: anything sent twice would show up now.
    await new Promise((r) => setTimeout(r, 1_500));
    compare('entrance', expected.entrances, received(h, 'entrance'), 'enter_time');
    compare('departure', expected.departures, received(h, 'departure'), 'depart_time');
    expect(
      departuresAfterEntrances(expected.departures, receivedAt(h, 'entrance'), receivedAt(h, 'departure')),
    ).toEqual([]);

    const lotCodes = new Set(received(h, 'park').map((p) => p.park_code));
    expect(lotCodes.size).toBeGreaterThanOrEqual(6);
    const spot = received(h, 'spot-num');
    const latest = new Map(spot.map((s) => [s.park_code, s]));
    expect(latest.size).toBeGreaterThan(0);
    for (const s of latest.values()) {
      expect(Number(s.remain_spots_num) + Number(s.used_spots_num)).toBe(Number(s.total_spots_num));
    }

    // The operator's view of the same run: `status` prints the streams and every lot.
    const status = await runCli(['status', '--json', '--no-probe'], h.childEnv());
    expect(status.code, status.stderr).toBe(0);
    const facts = JSON.parse(status.stdout) as StatusSnapshot;
    const entrances = facts.streams.find((s) => s.stream === 'entrances')!;
    expect(entrances.delivered.lastHour).toBe(expected.entrances.length);
    expect(entrances.failed).toBe(0);
    expect(facts.lots.map((l) => l.parkCode).sort()).toEqual([...lotCodes].sort());
    const table = await runCli(['status', '--no-probe'], h.childEnv());
    expect(table.stdout).toMatch(/entrances\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(table.stdout).toContain('ATXL/1');
  });
});
