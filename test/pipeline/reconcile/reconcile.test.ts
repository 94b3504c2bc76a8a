/** The reconciliation's rules, with its reads given as plain data (the wiring is tested end to end). */
import { describe, expect, it } from 'vitest';
import type { RowOutcome } from '../../../src/pipeline/events/records.js';
import { dayBounds } from '../../../src/pipeline/reconcile/days.js';
import { type ReconcileDeps, reconcileDays } from '../../../src/pipeline/reconcile/reconcile.js';
import type { EventStreamName } from '../../../src/pipeline/reconcile/types.js';
import type { EventRow } from '../../../src/pipeline/streams.js';

const SH = 'Asia/Shanghai';
const DAY = '2026-03-09';
const { start } = dayBounds(DAY, SH);

interface Fixture {
  rows: Partial<Record<EventStreamName, Array<{ id: string; lot: string; at: number; bad?: boolean }>>>;
  delivered?: string[];
  quarantined?: string[];
  failed?: string[];
  pending?: string[];
  readUpTo?: number;
  now?: number;
}

const keyOf = (id: string) => `LOT|P${id}|t#${id}`;

function deps(f: Fixture): ReconcileDeps & { pages: number[] } {
  const pages: number[] = [];
  const rowsOf = (stream: EventStreamName) =>
    (f.rows[stream] ?? []).map((r) => ({
      vendorKey: r.id,
      cursorTime: String(r.at),
      parkCode: r.lot,
      bad: r.bad,
    }));
  return {
    pages,
    zone: SH,
    retainDays: 35,
    now: () => (f.now ?? start + 2 * 86_400) * 1000,
    lotCodes: async () => ['A', 'B', 'C'],
    readUpTo: async () => f.readUpTo ?? start + 2 * 86_400,
    pendingKeys: async () => new Set((f.pending ?? []).map(keyOf)),
    failedKeys: async () => new Set((f.failed ?? []).map(keyOf)),
    readRows: async (stream, range, onPage) => {
      const rows = rowsOf(stream).filter(
        (r) => Number(r.cursorTime) >= range.from && Number(r.cursorTime) < range.to,
      );
      for (let i = 0; i < rows.length; i += 2) {
        pages.push(rows.slice(i, i + 2).length);
        await onPage(rows.slice(i, i + 2) as unknown as EventRow[]);
      }
    },
    transform: (_stream, row) => {
      const r = row as unknown as { vendorKey: string; cursorTime: string; parkCode: string; bad?: boolean };
      if (r.bad) return { ok: false, reasons: [{ code: 'zero-date', message: 'enterTime is a zero date' }] };
      return {
        ok: true,
        record: {
          key: keyOf(r.vendorKey),
          time: Number(r.cursorTime),
          vendorKey: r.vendorKey,
          lot: r.parkCode,
          payload: '{}',
        },
      } satisfies RowOutcome;
    },
    cursorEpoch: (_stream, row) => Number((row as unknown as { cursorTime: string }).cursorTime),
    delivered: async (_stream, records) =>
      records.map((r) => (f.delivered ?? []).some((id) => keyOf(id) === r.key)),
    quarantined: async (_stream, ids) => ids.map((id) => (f.quarantined ?? []).includes(id)),
  };
}

describe('reconcileDays', () => {
  it('counts each recorded event once: delivered, quarantined, failed, pending, else missing with its key', async () => {
    const d = deps({
      rows: {
        entrances: [
          { id: '1', lot: 'A', at: start + 10 },
          { id: '2', lot: 'A', at: start + 20 },
          { id: '3', lot: 'A', at: start + 30, bad: true },
          { id: '4', lot: 'B', at: start + 40 },
          { id: '5', lot: 'B', at: start + 50 },
          { id: '6', lot: 'B', at: start + 60 },
          { id: '7', lot: 'B', at: start + 86_400 }, // the next day
        ],
      },
      delivered: ['1', '4', '6'],
      quarantined: ['3'],
      failed: ['5', '6'], // 6 delivered on replay: delivered wins
      pending: [],
    });
    const report = await reconcileDays(d, { from: DAY, to: DAY });
    const a = report.rows.find((r) => r.parkCode === 'A' && r.stream === 'entrances')!;
    const b = report.rows.find((r) => r.parkCode === 'B' && r.stream === 'entrances')!;
    expect(a).toMatchObject({ recorded: 3, delivered: 1, quarantined: 1, failed: 0, pending: 0, unread: 0 });
    expect(a.missing).toEqual([
      { stream: 'entrances', parkCode: 'A', key: 'LOT|P2|t', vendorId: '2', time: start + 20 },
    ]);
    expect(b).toMatchObject({ recorded: 3, delivered: 2, failed: 1, missing: [] });
    expect(report.rows.find((r) => r.parkCode === 'C' && r.stream === 'entrances')).toMatchObject({
      recorded: 0,
    });
    expect(report.complete).toBe(false);
    expect(report.missingByStream).toEqual({ entrances: 1, departures: 0 });
    expect(report.rows.every((r) => !r.provisional)).toBe(true);
  });

  it('an event on its way (a push job still to run, or held for its lot) is not missing', async () => {
    const report = await reconcileDays(
      deps({ rows: { departures: [{ id: '9', lot: 'C', at: start + 5 }] }, pending: ['9'] }),
      { from: DAY, to: DAY },
    );
    expect(report.rows.find((r) => r.parkCode === 'C' && r.stream === 'departures')).toMatchObject({
      recorded: 1,
      pending: 1,
      missing: [],
    });
    expect(report.complete).toBe(true);
  });

  it('a bad row outside the quarantine is missing, with why, under its vendor id', async () => {
    const report = await reconcileDays(
      deps({ rows: { entrances: [{ id: '3', lot: 'A', at: start + 30, bad: true }] } }),
      {
        from: DAY,
        to: DAY,
      },
    );
    expect(report.rows.find((r) => r.parkCode === 'A' && r.stream === 'entrances')!.missing).toEqual([
      {
        stream: 'entrances',
        parkCode: 'A',
        key: '',
        vendorId: '3',
        time: start + 30,
        reason: 'cannot become a payload and is not in the quarantine: enterTime is a zero date',
      },
    ]);
  });

  it('events after where the stream has read up to are provisional, not missing', async () => {
    const readUpTo = start + 12 * 3600;
    const report = await reconcileDays(
      deps({
        rows: {
          entrances: [
            { id: '1', lot: 'A', at: start + 3600 },
            { id: '2', lot: 'A', at: readUpTo - 1 },
            { id: '3', lot: 'A', at: readUpTo },
            { id: '4', lot: 'A', at: readUpTo + 60 },
          ],
        },
        delivered: ['1'],
        readUpTo,
        now: readUpTo + 5,
      }),
      { from: DAY, to: DAY },
    );
    const a = report.rows.find((r) => r.parkCode === 'A' && r.stream === 'entrances')!;
    expect(a).toMatchObject({
      recorded: 4,
      delivered: 1,
      unread: 2,
      provisional: true,
      provisionalFrom: readUpTo,
    });
    expect(a.missing.map((m) => m.vendorId)).toEqual(['2']);
  });

  it('one lot only; an unknown lot names the close matches', async () => {
    const d = deps({
      rows: {
        entrances: [
          { id: '1', lot: 'A', at: start },
          { id: '2', lot: 'B', at: start },
        ],
      },
    });
    const report = await reconcileDays(d, { from: DAY, to: DAY, lot: 'B' });
    expect(new Set(report.rows.map((r) => r.parkCode))).toEqual(new Set(['B']));
    expect(report.rows.find((r) => r.stream === 'entrances')!.missing.map((m) => m.vendorId)).toEqual(['2']);
    await expect(reconcileDays(d, { from: DAY, to: DAY, lot: 'b ' })).rejects.toThrow(
      /no lot "b " .*did you mean "B"/,
    );
  });

  it('refuses a day outside the retained window before reading anything', async () => {
    const d = deps({ rows: {} });
    await expect(reconcileDays(d, { from: '2026-01-01', to: DAY })).rejects.toThrow(
      /outside the retained window/,
    );
    expect(d.pages).toEqual([]);
  });
});

describe('a second look', () => {
  it('finds an event that moved on while the first look read (a job taken from waiting to active)', async () => {
    const d = deps({ rows: { entrances: [{ id: '1', lot: 'A', at: start + 10 }] } });
    let looks = 0;
    // First look: the job is in neither list; second look: it is active (pending).
    d.pendingKeys = async () => new Set(looks++ === 0 ? [] : [keyOf('1')]);
    const report = await reconcileDays(d, { from: DAY, to: DAY });
    expect(report.rows.find((r) => r.parkCode === 'A' && r.stream === 'entrances')).toMatchObject({
      recorded: 1,
      pending: 1,
      missing: [],
    });
    expect(report.complete).toBe(true);
  });
});
