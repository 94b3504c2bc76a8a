/**
 * The end-to-end tests' ordering check (`departuresAfterEntrances`): ISP tells entrances apart by
 * natural key only, so two plate-less cars entering one lot in the same second share one, and each
 * departure must pair with an entrance of its key received before it.
 */
import { describe, expect, it } from 'vitest';
import { departuresAfterEntrances, type ExpectedEvent } from './expected.js';

const K = 'L|无牌车|100';
const dep = (key: string, enterKey: string): ExpectedEvent => ({ key, fields: {}, photo: false, enterKey });

describe('departuresAfterEntrances', () => {
  it('flags a departure received before its entrance', () => {
    const v = departuresAfterEntrances(
      [dep('L|A|200', 'L|A|100')],
      new Map([['L|A|100', [50]]]),
      new Map([['L|A|200', [40]]]),
    );
    expect(v).toHaveLength(1);
  });
  it('pairs the departures of a shared entrance key with its receipts in order', () => {
    const departures = [dep('L|无牌车|200', K), dep('L|无牌车|300', K)];
    // Entrances at 10 and 30; departures at 20 and 40: each follows an entrance of its own.
    expect(
      departuresAfterEntrances(
        departures,
        new Map([[K, [30, 10]]]),
        new Map([
          ['L|无牌车|200', [20]],
          ['L|无牌车|300', [40]],
        ]),
      ),
    ).toEqual([]);
    // Departures at 20 and 25: the second has no entrance of its own before it (the other came at 30).
    expect(
      departuresAfterEntrances(
        departures,
        new Map([[K, [10, 30]]]),
        new Map([
          ['L|无牌车|200', [20]],
          ['L|无牌车|300', [25]],
        ]),
      ),
    ).toHaveLength(1);
  });
  it('leaves out the departures of entrances parked on purpose, and those not received', () => {
    const departures = [dep('L|A|200', 'L|A|100')];
    expect(
      departuresAfterEntrances(
        departures,
        new Map([['L|A|100', [50]]]),
        new Map([['L|A|200', [40]]]),
        new Set(['L|A|100']),
      ),
    ).toEqual([]);
    expect(departuresAfterEntrances(departures, new Map(), new Map([['L|A|200', [40]]]))).toEqual([]);
  });
});
