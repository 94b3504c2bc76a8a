/** Push records for tests of the poll and backfill loops, where only the row's id and time matter. */
import type { EventRecord } from '../../src/pipeline/events/records.js';

/** The record of a test row `{ vendorKey, t }`: key `k<id>`, an empty payload. */
export function testRecord(row: { vendorKey: string; t: number }): EventRecord {
  return { key: `k${row.vendorKey}`, time: row.t, vendorKey: row.vendorKey, lot: 'L', payload: '{}' };
}

/** A transform that quarantines the rows `bad` says and turns the others into testRecord. */
export function testTransform<Row extends { vendorKey: string; t: number }>(bad: (row: Row) => boolean) {
  return (row: Row) =>
    bad(row)
      ? { ok: false as const, reasons: [{ code: 'bad', message: 'bad row' }] }
      : { ok: true as const, record: testRecord(row) };
}
