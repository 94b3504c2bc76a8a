import { describe, expect, it } from 'vitest';
import {
  applyFaultsPatch,
  DEFAULT_FAULTS,
  findRejected,
  parseRejectRule,
  pickFault,
} from '../../../src/sim/isp/index.js';

describe('simulator faults', () => {
  it('applies a patch and starts a down window from now', () => {
    const faults = applyFaultsPatch(DEFAULT_FAULTS, { http500Rate: 0.5, downForMs: 1000 }, 5000);
    expect(faults).toMatchObject({ http500Rate: 0.5, downUntil: 6000, http429Rate: 0 });
    expect(applyFaultsPatch(faults, { downForMs: 0 }, 5500).downUntil).toBe(0);
  });

  it('picks faults by probability, down first, token endpoint only when asked', () => {
    const always = () => 0;
    const never = () => 0.99;
    const f = applyFaultsPatch(DEFAULT_FAULTS, { dropRate: 0.5, http429Rate: 0.5, http500Rate: 0.5 }, 0);
    expect(pickFault(f, 0, always, 'isp')).toBe('drop');
    expect(pickFault(f, 0, never, 'isp')).toBeUndefined();
    expect(pickFault({ ...f, dropRate: 0 }, 0, always, 'isp')).toBe('http429');
    expect(pickFault({ ...f, dropRate: 0, http429Rate: 0 }, 0, always, 'isp')).toBe('http500');
    expect(pickFault(f, 0, always, 'token')).toBeUndefined();
    expect(pickFault({ ...f, tokenEndpointFaults: true }, 0, always, 'token')).toBe('drop');
    const down = { ...DEFAULT_FAULTS, downUntil: 100 };
    expect(pickFault(down, 99, never, 'other')).toBe('down');
    expect(pickFault(down, 100, never, 'isp')).toBeUndefined();
  });

  it('matches reject rules by kind, field and value (text matches numbers)', () => {
    const records = [
      { plate_number: '京A00002', enter_time: 1 },
      { plate_number: '京A00001', enter_time: 2 },
    ];
    expect(
      findRejected([parseRejectRule('entrance:plate_number=京A00001')], 'entrance', records)?.index,
    ).toBe(1);
    expect(findRejected([parseRejectRule('entrance:enter_time=1')], 'entrance', records)?.index).toBe(0);
    expect(
      findRejected([parseRejectRule('departure:plate_number=京A00001')], 'entrance', records),
    ).toBeUndefined();
    expect(findRejected([parseRejectRule('entrance')], 'entrance', records)?.index).toBe(0);
    expect(findRejected([{ kind: 'entrance', field: 'car_logo' }], 'entrance', records)).toBeUndefined();
  });

  it('parses the CLI form of a rule and refuses a bad one', () => {
    expect(parseRejectRule('park-deletion:park_code=A')).toEqual({
      kind: 'park-deletion',
      field: 'park_code',
      equals: 'A',
    });
    expect(parseRejectRule('spot-num:park_code')).toEqual({ kind: 'spot-num', field: 'park_code' });
    expect(() => parseRejectRule('entrances:plate=1')).toThrow(/kind one of/);
  });
});
