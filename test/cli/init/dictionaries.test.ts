/** Vendor car and pay type words mapped to ISP's codes where the word says it. Pure. */
import { describe, expect, it } from 'vitest';
import { guessCarType, guessPayType } from '../../../src/cli/init/dictionaries.js';

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
