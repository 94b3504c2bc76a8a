/**
 * Vendor car and pay type words mapped to ISP's codes where the word says it, and the dictionary a
 * draft gets from a sampled column and its lookup table. Pure.
 */
import { describe, expect, it } from 'vitest';
import { dictionaryDraft, guessCarType, guessPayType } from '../../../src/cli/init/dictionaries.js';
import type { Classified } from '../../../src/cli/init/draft.js';
import type { ColumnInfo, TableInfo } from '../../../src/vendor-db/introspect.js';

describe('dictionary guesses', () => {
  it('maps vendor words to ISP codes where the word says it', () => {
    expect(['大型车', '小车', '新能源车', '警车', '临时车辆', '无牌车', '特种车'].map(guessCarType)).toEqual([
      '1',
      '2',
      '6',
      '3',
      '4',
      '5',
      undefined,
    ]);
    expect(
      ['微信扫码', 'Alipay', '现金', 'ETC', '银联卡', '储值', '月租', '数字人民币'].map(guessPayType),
    ).toEqual(['3', '4', '1', '2', '5', '6', '7', undefined]);
  });
});

const column = (name: string, dataType: string): ColumnInfo => ({
  name,
  dataType,
  columnType: dataType,
  comment: '',
  nullable: true,
});
const table = (info: Partial<TableInfo> & Pick<TableInfo, 'name' | 'columns' | 'samples'>): Classified => ({
  table: { comment: '', rows: info.samples.length, indexes: [], ...info },
  roles: new Map(),
});

describe('a drafted dictionary', () => {
  it('lists every id of the lookup table, those the sample lacks counted 0', () => {
    const typeId = column('car_type_id', 'int');
    const entries = table({
      name: 't_entry',
      columns: [column('id', 'int'), typeId],
      // 10 sampled rows: no police car (id 4) among them, as in a real few-hundred-row sample.
      samples: [...Array(7).fill('1'), '2', '2', '3'].map((id, i) => ({ id: String(i), car_type_id: id })),
    });
    const lookup = table({
      name: 't_car_type',
      columns: [column('type_id', 'int'), column('type_name', 'varchar')],
      indexes: [{ name: 'PRIMARY', columns: ['type_id'], unique: true }],
      samples: [
        ['1', '小型车'],
        ['2', '大型车'],
        ['3', '新能源小型车'],
        ['4', '警车'],
        ['5', '临时车辆'],
      ].map(([type_id, type_name]) => ({ type_id: type_id!, type_name: type_name! })),
    });
    const draft = dictionaryDraft(entries, typeId, [entries, lookup], {}, guessCarType);
    expect(draft.sampled).toBe(10);
    expect(draft.entries.map((e) => [e.value, e.count, e.code, e.why])).toEqual([
      ['1', 7, '2', 't_car_type.type_name says 1 = 小型车'],
      ['2', 2, '1', 't_car_type.type_name says 2 = 大型车'],
      ['3', 1, '6', 't_car_type.type_name says 3 = 新能源小型车'],
      ['4', 0, '3', 't_car_type.type_name says 4 = 警车'],
      ['5', 0, '4', 't_car_type.type_name says 5 = 临时车辆'],
    ]);
  });
});
