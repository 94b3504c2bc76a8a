/** What the end-to-end tests assert of a finished run: every event at ISP once, in visit order. */

import { expect } from 'vitest';
import { departuresAfterEntrances, expectedEvents, receivedAt } from './expected.js';
import { type Harness, waitFor } from './pipeline.js';

/** Every expected event is at the simulator, each natural key exactly as often as in the vendor DB. */
export async function deliveredExactlyOnce(
  h: Harness,
  timeoutMs = 90_000,
  rejectedEntrances: ReadonlySet<string> = new Set(),
) {
  const expected = await expectedEvents(h.db.admin, h.style);
  const want = { entrance: expected.entrances, departure: expected.departures };
  await waitFor(
    'every event delivered',
    () =>
      h.sim.state.store.count('entrance') >= want.entrance.length &&
      h.sim.state.store.count('departure') >= want.departure.length,
    timeoutMs,
  );
  await new Promise((r) => setTimeout(r, 1_000));
  for (const kind of ['entrance', 'departure'] as const) {
    const timeField = kind === 'entrance' ? 'enter_time' : 'depart_time';
    const got = h.sim.state.received(kind, 0, 1_000_000).map((e) => {
      const r = e.record as Record<string, unknown>;
      return `${r.park_code}|${r.plate_number}|${r[timeField]}`;
    });
    expect(got.sort()).toEqual(want[kind].map((e) => e.key).sort());
  }
  expect(
    departuresAfterEntrances(
      expected.departures,
      receivedAt(h, 'entrance'),
      receivedAt(h, 'departure'),
      rejectedEntrances,
    ),
  ).toEqual([]);
  return expected;
}
