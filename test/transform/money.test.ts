import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MONEY_DECIMALS } from '../../src/isp-spec/index.js';
import { fenToYuan, toFen } from '../../src/transform/index.js';

describe('fees to exact yuan', () => {
  it.each([
    // [vendor value, unit, fen, rounded]
    [3450, 'fen', 3450, false],
    ['3450', 'fen', 3450, false],
    ['3450.00', 'fen', 3450, false],
    ['3450.5', 'fen', 3451, true],
    [0, 'fen', 0, false],
    [null, 'fen', 0, false],
    ['34.50', 'yuan', 3450, false],
    [34.5, 'yuan', 3450, false],
    ['0.1', 'yuan', 10, false],
    [0.1 + 0.2, 'yuan', 30, false],
    [0.07, 'yuan', 7, false],
    [1.005, 'yuan', 101, false],
    ['1.005', 'yuan', 101, true],
    ['34.504', 'yuan', 3450, true],
    ['34.5000', 'yuan', 3450, false],
    [' 12.3 ', 'yuan', 1230, false],
    ['.5', 'yuan', 50, false],
    ['7.', 'yuan', 700, false],
    ['+7', 'yuan', 700, false],
    ['-0', 'yuan', 0, false],
    ['1e2', 'yuan', 10000, false],
    [1e-7, 'yuan', 0, false],
    ['99999999.99', 'yuan', 9999999999, false],
  ] as const)('%j %s is %i fen', (value, unit, fen, rounded) => {
    expect(toFen(value, unit, 'paidFee')).toEqual({ fen, rounded });
  });

  it.each([
    [-1, 'fen', 'negative-fee'],
    ['-0.01', 'yuan', 'negative-fee'],
    ['-0.001', 'yuan', 'negative-fee'],
    ['abc', 'yuan', 'bad-number'],
    ['', 'yuan', 'bad-number'],
    ['12,50', 'yuan', 'bad-number'],
    ['1.2.3', 'yuan', 'bad-number'],
    [Number.NaN, 'yuan', 'bad-number'],
    [Number.POSITIVE_INFINITY, 'fen', 'bad-number'],
    [true, 'fen', 'bad-number'],
  ] as const)('%j %s is a %s reason', (value, unit, code) => {
    expect(toFen(value, unit, 'paidFee')).toMatchObject({ code, field: 'paidFee' });
  });

  it('sends the spec example fee 34.5 yuan from 3450 fen', () => {
    expect(fenToYuan(3450)).toBe(34.5);
    expect(JSON.stringify({ paid_fee: fenToYuan(3450) })).toBe('{"paid_fee":34.5}');
    expect(fenToYuan(1)).toBe(0.01);
    expect(fenToYuan(30)).toBe(0.3);
  });

  it('round-trips any fen amount exactly through yuan text and back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999_999_999 }), (fen) => {
        const yuanText = `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
        expect(toFen(yuanText, 'yuan', 'f')).toEqual({ fen, rounded: false });
        expect(toFen(fen, 'fen', 'f')).toEqual({ fen, rounded: false });
        const yuan = fenToYuan(fen);
        // What JSON sends is the exact decimal, at most two decimals (the spec's money check).
        expect(Number(yuan.toFixed(MONEY_DECIMALS))).toBe(yuan);
        expect(yuan.toFixed(2)).toBe(yuanText);
        expect(toFen(yuan, 'yuan', 'f')).toEqual({ fen, rounded: false });
      }),
      { numRuns: 5000 },
    );
  });

  it('rounds any longer decimal half up to the fen, like exact decimal arithmetic', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.integer({ min: 3, max: 6 }),
        (units, decimals) => {
          const scale = 10n ** BigInt(decimals);
          const text = `${units / scale}.${(units % scale).toString().padStart(decimals, '0')}`;
          const divisor = 10n ** BigInt(decimals - 2);
          const expected = Number((units + divisor / 2n) / divisor);
          expect((toFen(text, 'yuan', 'f') as { fen: number }).fen).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
