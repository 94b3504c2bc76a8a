/**
 * The id-gap probe's rules on an in-memory table: of the gaps looked up, rows found that the live
 * poll never read are handed on, marked and closed; ids not there stay open; rows read meanwhile
 * are closed without going again; a follower's row that must wait stays open, unmarked.
 */
import { describe, expect, it } from 'vitest';
import { type IdGapProbeDeps, probeIdGaps } from '../../../src/pipeline/events/id-gap-probe.js';
import type { PushJobSpec } from '../../../src/pipeline/events/page.js';
import { testTransform } from '../../helpers/records.js';

interface Row {
  vendorKey: string;
  cursorTime: string;
  t: number;
}

function probe(
  committed: number[],
  open: number[],
  read: number[],
  options: { bad?: number[]; wait?: number[] } = {},
) {
  const rows = new Map(
    committed.map((id) => [String(id), { vendorKey: String(id), cursorTime: '100', t: 100 }]),
  );
  const gaps = new Set(open.map(String));
  const marks = new Set(read.map(String));
  const handed: PushJobSpec[] = [];
  const quarantined: string[] = [];
  const deps: IdGapProbeDeps<Row> = {
    stream: 'departures',
    maxItemsPerJob: 100,
    openGaps: async () => [...gaps],
    readRows: async (ids) => ids.flatMap((id) => (rows.has(id) ? [rows.get(id)!] : [])),
    wasRead: async (found) => found.map((r) => marks.has(r.vendorKey)),
    markRead: async (found) => {
      for (const r of found) marks.add(r.vendorKey);
    },
    resolve: async (ids) => {
      for (const id of ids) gaps.delete(id);
    },
    transform: testTransform<Row>((row) => (options.bad ?? []).includes(Number(row.vendorKey))),
    ...(options.wait
      ? {
          mayGo: async (records: Array<{ vendorKey: string }>) =>
            records.map((r) => !options.wait!.includes(Number(r.vendorKey))),
        }
      : {}),
    quarantine: async (row) => {
      quarantined.push(row.vendorKey);
    },
    enqueue: async (jobs) => {
      handed.push(...jobs);
    },
  };
  const sent = () => handed.flatMap((j) => j.records.map((r) => r.vendorKey));
  return { deps, gaps, marks, sent, quarantined };
}

describe('probeIdGaps', () => {
  it('hands on the rows committed late, and leaves the ids not there open', async () => {
    // Gaps 3, 5, 6: 3 and 6 have committed since, 5 has not (or was rolled back).
    const p = probe([1, 2, 3, 4, 6], [3, 5, 6], [1, 2, 4]);
    const result = await probeIdGaps(p.deps);
    expect(result).toEqual({ gaps: 3, late: 2, held: 0 });
    expect(p.sent()).toEqual(['3', '6']);
    expect([...p.marks].sort()).toEqual(['1', '2', '3', '4', '6']);
    expect([...p.gaps]).toEqual(['5']);
  });

  it('closes a gap read meanwhile (a held-back row released) without handing it on again', async () => {
    const p = probe([7, 8], [7, 8], [7]);
    expect(await probeIdGaps(p.deps)).toEqual({ gaps: 2, late: 1, held: 0 });
    expect(p.sent()).toEqual(['8']);
    expect(p.gaps.size).toBe(0);
  });

  it('keeps a row that must wait for its precedent open and unmarked; quarantines a bad one', async () => {
    const p = probe([10, 11, 12], [10, 11, 12], [], { bad: [12], wait: [11] });
    expect(await probeIdGaps(p.deps)).toEqual({ gaps: 3, late: 2, held: 1 });
    expect(p.sent()).toEqual(['10']);
    expect(p.quarantined).toEqual(['12']);
    expect([...p.gaps]).toEqual(['11']);
    expect(p.marks.has('11')).toBe(false);
    // Next poll: its precedent settled, it goes.
    const again = probe([10, 11, 12], [...p.gaps].map(Number), [...p.marks].map(Number));
    expect(await probeIdGaps(again.deps)).toEqual({ gaps: 1, late: 1, held: 0 });
    expect(again.sent()).toEqual(['11']);
  });

  it('does nothing without open gaps', async () => {
    const p = probe([1], [], [1]);
    expect(await probeIdGaps(p.deps)).toEqual({ gaps: 0, late: 0, held: 0 });
  });
});
