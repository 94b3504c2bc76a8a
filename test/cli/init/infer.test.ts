/** The draft's guesses from names and samples alone, without a database. Pure. */
import { describe, expect, it } from 'vitest';
import { words } from '../../../src/cli/init/columns.js';
import { inferDraft } from '../../../src/cli/init/infer.js';
import type { ColumnInfo, TableInfo } from '../../../src/vendor-db/introspect.js';

const col = (name: string, dataType: string, comment = ''): ColumnInfo => ({
  name,
  dataType,
  columnType: dataType,
  comment,
  nullable: true,
});

function visits(fees: string[]): TableInfo {
  return {
    name: 'parking_visit',
    comment: '',
    rows: 50_000,
    columns: [
      col('id', 'bigint'),
      col('lot_code', 'varchar'),
      col('plate', 'varchar'),
      col('in_time', 'datetime'),
      col('out_time', 'datetime'),
      col('fee', 'int'),
      col('paid_fee', 'int'),
    ],
    indexes: [
      { name: 'PRIMARY', columns: ['id'], unique: true },
      { name: 'idx_out', columns: ['out_time'], unique: false },
    ],
    samples: fees.map((fee, i) => ({
      id: String(i + 1),
      lot_code: 'L1',
      plate: '苏A12345',
      in_time: '2026-12-01 08:00:00',
      out_time: '2026-12-01 09:00:00',
      fee,
      paid_fee: fee,
    })),
  };
}

const draftOf = (table: TableInfo) =>
  inferDraft({ database: 'd', zone: 'Asia/Shanghai', tables: [table], known: { carType: {}, payType: {} } });

describe('init guesses', () => {
  it('reads pinyin initials as words', () => {
    expect(words('rcsj')).toBe('in_time');
    expect(words('tcc_jcjl')).toBe('park_inout_record');
    expect(words('inTime')).toBe('in_time');
  });

  it('takes large integer fees for fen, and asks about small ones', () => {
    const big = draftOf(visits(['1500', '800', '2300'])).streams.departures?.settings.moneyUnit;
    expect(big).toMatchObject({ value: 'fen' });
    expect(big?.confirm).toBeUndefined();
    expect(big?.why).toContain('median 1500');
    const small = draftOf(visits(['5', '8', '12'])).streams.departures?.settings.moneyUnit;
    expect(small).toMatchObject({ value: 'fen', confirm: 'fen or whole yuan' });
  });

  it('marks a cursor without an index as an open question with the index to ask for', () => {
    const draft = draftOf(visits(['100']));
    expect(draft.streams.entrances?.cursor?.time.confirm).toContain(
      'CREATE INDEX idx_in_time_id ON parking_visit (in_time, id)',
    );
    expect(draft.streams.departures?.cursor?.time.confirm).toBeUndefined();
    expect(draft.open).toContain(
      'streams.entrances.cursor.time: no index of parking_visit starts with in_time',
    );
  });
});
