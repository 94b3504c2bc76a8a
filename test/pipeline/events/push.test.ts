/**
 * pushEvents with its I/O passed in: batches, and the earliest time still to go that it reports
 * between batches (the departure gate moves with each batch instead of each job).
 */
import { describe, expect, it } from 'vitest';
import { type PushEventsDeps, pushEvents } from '../../../src/pipeline/events/push.js';
import type { SendOutcome } from '../../../src/pipeline/send-outcome.js';
import { testRecord } from '../../helpers/records.js';

function deps(options: { reject?: (text: string) => boolean; quarantine?: string[] } = {}) {
  const sent: string[][] = [];
  const advanced: number[] = [];
  const isolated: string[] = [];
  const quarantined: string[] = [];
  const d: PushEventsDeps = {
    ledger: { delivered: async (e) => e.map(() => false), markDelivered: async () => undefined },
    prepare: async (records) =>
      records.map((record) =>
        options.quarantine?.includes(record.vendorKey)
          ? { ok: false, record, reason: { code: 'photo', message: 'no photo' } }
          : { ok: true, record, text: record.vendorKey, bytes: record.vendorKey.length },
      ),
    send: async (texts): Promise<SendOutcome> => {
      if (texts.some((t) => options.reject?.(t as string))) return { kind: 'rejected', message: 'bad' };
      sent.push(texts as string[]);
      return { kind: 'delivered' };
    },
    quarantine: async (record) => {
      quarantined.push(record.vendorKey);
    },
    isolate: async (rejected) => {
      isolated.push(...rejected.map((r) => r.record.vendorKey));
    },
    maxItems: 3,
    maxBytes: 1_000,
    prepareWindow: 2,
    advance: async (earliest) => {
      advanced.push(earliest);
    },
  };
  return { d, sent, advanced, isolated, quarantined };
}

const rows = (times: number[]) => times.map((t, i) => testRecord({ vendorKey: String(i + 1), t }));

describe('pushEvents', () => {
  it('reports, after each batch, the earliest time among the records still to go', async () => {
    // Event times need not follow the cursor order (a cursor column other than the event time).
    const s = deps();
    const result = await pushEvents(rows([10, 30, 20, 50, 40, 45, 70, 60]), s.d, { splitRejected: true });
    expect(result).toMatchObject({ delivered: 8, skipped: 0 });
    expect(s.sent).toEqual([
      ['1', '2', '3'],
      ['4', '5', '6'],
      ['7', '8'],
    ]);
    // After 1..3: min(50, 40, 45, 70, 60) = 40; after 4..6: min(70, 60) = 60; the job's end settles it.
    expect(s.advanced).toEqual([40, 60]);
  });

  it('counts quarantined and isolated records as gone, not as still to go', async () => {
    const s = deps({ quarantine: ['2'], reject: (t) => t === '4' });
    const result = await pushEvents(rows([10, 11, 12, 13, 14, 15, 16]), s.d, { splitRejected: true });
    expect(result).toMatchObject({ delivered: 5, quarantined: 1, isolated: 1 });
    expect(s.quarantined).toEqual(['2']);
    expect(s.isolated).toEqual(['4']);
    // Batches [1,3,4] (4 isolated by bisection), then [5,6,7]: after the first, 5 is the earliest left.
    expect(s.advanced).toEqual([14]);
  });

  it('gives every batch’s texts back once it is done with: delivered, split and isolated, or failed', async () => {
    const s = deps({ reject: (t) => t === '2' });
    const released: string[][] = [];
    s.d.release = (texts) => released.push(texts as string[]);
    await pushEvents(rows([10, 11, 12, 13]), s.d, { splitRejected: true });
    expect(released).toEqual([['1', '2', '3'], ['4']]);

    const failing = deps();
    const gone: string[][] = [];
    failing.d.release = (texts) => gone.push(texts as string[]);
    failing.d.send = async () => {
      throw new Error('ISP unreachable');
    };
    await expect(pushEvents(rows([10, 11]), failing.d, { splitRejected: true })).rejects.toThrow(
      'unreachable',
    );
    expect(gone).toEqual([['1', '2']]);
  });
});
