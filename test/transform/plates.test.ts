import { describe, expect, it } from 'vitest';
import {
  classifyPlate,
  createPlateReader,
  NO_PLATE_TEXT,
  normalizePlate,
} from '../../src/transform/index.js';

describe('plates', () => {
  it.each([
    ['鲁A12345', '鲁A12345'],
    [' 鲁 A12345 ', '鲁A12345'], // the spec example's "鲁 A12345"
    ['京B·D12345', '京BD12345'],
    ['京B•D12345', '京BD12345'],
    ['京B・D12345', '京BD12345'],
    ['沪a-88888', '沪A88888'],
    ['沪A—88888', '沪A88888'],
    ['粤Ｂ１２３４５', '粤B12345'],
    ['ｓｕ', 'SU'],
    ['川A\u30001234学', '川A1234学'],
    ['川A\t1234学\n', '川A1234学'],
    ['浙a.b1234', '浙AB1234'],
    ['_无_', '_无_'],
  ])('normalizes %j to %j', (raw, normalized) => {
    expect(normalizePlate(raw)).toBe(normalized);
  });

  it.each([
    ['鲁A12345', 'ordinary'],
    ['京N8P8F8', 'ordinary'],
    ['京AD12345', 'new-energy'],
    ['京AF1234X', 'new-energy'],
    ['粤B12345D', 'new-energy'],
    ['粤B12345F', 'new-energy'],
    ['京A1234警', 'police'],
    ['鲁A1234挂', 'trailer'],
    ['川A1234学', 'learner'],
    ['使014578', 'embassy'],
    ['123使456', 'embassy'],
    ['沪A1234领', 'consulate'],
    ['粤Z1234港', 'hk-macau'],
    ['粤Z1A23澳', 'hk-macau'],
    ['AB12345', 'invalid'],
    ['鲁A1234', 'invalid'],
    ['鲁AI2345', 'invalid'],
    ['鲁A123456', 'invalid'],
    ['京AD1234', 'ordinary'],
    ['京AD123', 'invalid'],
    ['京A12345X', 'invalid'],
    ['粤B1234港', 'invalid'],
    ['XX12345', 'invalid'],
    ['火A12345', 'invalid'],
  ])('%s is %s', (plate, kind) => {
    expect(classifyPlate(plate)).toBe(kind);
  });

  it.each([null, undefined, '', '   ', '无牌车', '无牌', '_无_', '未知', 'NULL', ' 无 牌 车 ', '000000'])(
    '%j means no plate',
    (raw) => {
      const read = createPlateReader(['000000']);
      expect(read(raw)).toEqual({ plate: NO_PLATE_TEXT, noPlate: true, kind: 'none' });
    },
  );

  it('reads a plate, normalized and classified', () => {
    const read = createPlateReader([]);
    expect(read('鲁 A12345')).toEqual({ plate: '鲁A12345', noPlate: false, kind: 'ordinary' });
    expect(read('000000')).toEqual({ plate: '000000', noPlate: false, kind: 'invalid' });
    expect(read(12345)).toEqual({ plate: '12345', noPlate: false, kind: 'invalid' });
  });
});
