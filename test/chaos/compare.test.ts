/**
 * The delivery comparison the chaos and end-to-end tests judge by (harness.ts `compare`): each
 * vendor event is matched to a received record of its own. Pure.
 */
import { describe, expect, it } from 'vitest';
import type { ExpectedEvent } from '../helpers/expected.js';
import { compare } from './harness.js';

const KEY = 'ATXL/1|无牌车|1796310904';
const event = (payType: string): ExpectedEvent => ({
  key: KEY,
  fields: { park_code: 'ATXL/1', plate_number: '无牌车', pay_type: payType },
  photo: false,
});
const wire = (payType: string) => ({
  park_code: 'ATXL/1',
  plate_number: '无牌车',
  depart_time: 1796310904,
  pay_type: payType,
  depart_pic: '',
});

describe('comparing what ISP received with the vendor events', () => {
  it('matches two events of one key (two cars without plates, one lot, one second) in any order', () => {
    const result = compare('departure', [event('3'), event('4')], [wire('4'), wire('3')], 'depart_time');
    expect(result).toMatchObject({ missing: [], duplicateKeys: [], unexpected: [], mismatches: [] });
  });

  it('still reports a record that differs, a missing one and one received twice', () => {
    expect(
      compare('departure', [event('3'), event('4')], [wire('4'), wire('4')], 'depart_time').mismatches,
    ).toEqual([`${KEY} pay_type: "4" ≠ "3"`]);
    expect(compare('departure', [event('3'), event('4')], [wire('3')], 'depart_time').missing).toEqual([KEY]);
    expect(compare('departure', [event('3')], [wire('3'), wire('3')], 'depart_time').duplicateKeys).toEqual([
      KEY,
    ]);
  });
});
