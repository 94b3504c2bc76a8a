/**
 * The record-by-record gate of a low-latency follower (`mayGoNow`): a departure goes once its own
 * entrance is settled, by time (before the entrance watermark, sweep included) or because ISP
 * accepted that entrance; without a named entrance, once its own time is before the watermark.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { acceptedKeysOf, askedKeysOf, mayGoNow } from '../../../src/pipeline/events/departure-gate.js';
import { GATE_NOT_STARTED } from '../../../src/pipeline/events/poll.js';
import { naturalKeyOf } from '../../../src/pipeline/events/records.js';
import { EVENT_STREAMS } from '../../../src/pipeline/streams.js';
import { createTransformContext } from '../../../src/transform/index.js';

const entrance = { key: 'L|P|100', time: 100 };

describe('mayGoNow', () => {
  it('lets a departure go once its entrance is before the entrance horizon', () => {
    expect(mayGoNow(200, entrance, 101, false)).toBe(true);
    expect(mayGoNow(200, entrance, 100, false)).toBe(false);
  });
  it('lets it go before that once ISP has accepted its very entrance', () => {
    expect(mayGoNow(200, entrance, 50, true)).toBe(true);
  });
  it('holds a departure without a named entrance until its own time is before the horizon', () => {
    expect(mayGoNow(200, undefined, 150, false)).toBe(false);
    expect(mayGoNow(200, undefined, 201, false)).toBe(true);
  });
  it('holds everything while the entrances have read nothing', () => {
    expect(mayGoNow(200, entrance, undefined, false)).toBe(false);
    expect(mayGoNow(200, entrance, GATE_NOT_STARTED, false)).toBe(false);
  });
});

describe('the entrance a low-latency departure waits for', () => {
  const ctx = createTransformContext(loadConfig({ files: ['config/presets/visit-table.yaml'], env: {} }), {
    now: () => Date.UTC(2024, 5, 1, 4, 0, 0),
    onWarnings: null,
  });
  const visit = { vendorKey: '41', parkCode: 'P1', enterTime: '2024-05-31 08:00:00' };
  const entranceOf = (plate: string, vendorKey = visit.vendorKey) =>
    EVENT_STREAMS.entrances.toRecord(
      { ...visit, vendorKey, cursorTime: visit.enterTime, plateNumber: plate, carType: '小型车' },
      ctx,
    );
  const entrance = entranceOf('鲁A12345');
  const departure = (plate: string, entranceId?: string) =>
    EVENT_STREAMS.departures.toRecord(
      {
        ...visit,
        cursorTime: '2024-05-31 09:00:00',
        departTime: '2024-05-31 09:00:00',
        plateNumber: plate,
        payableFee: 0,
        paidFee: 0,
        ...(entranceId ? { entranceId } : {}),
      },
      ctx,
    );
  /** What the push notes when ISP accepts the entrance. */
  const accepted = (of = entrance) => {
    if (!of.ok) throw new Error('entrance did not transform');
    const r = of.record;
    return acceptedKeysOf({
      key: naturalKeyOf(r.key, r.vendorKey),
      time: r.time,
      vendorKey: r.vendorKey,
    }).map((k) => `${k.slice}/${k.key}`);
  };
  const asked = (outcome: ReturnType<typeof departure>) => {
    if (!outcome.ok || !outcome.precedent) throw new Error('no precedent');
    return askedKeysOf(outcome.precedent).map((k) => `${k.slice}/${k.key}`);
  };

  it('is found by its natural key when the exit read the same plate', () => {
    expect(asked(departure('鲁A12345')).some((k) => accepted().includes(k))).toBe(true);
  });
  it('is found by its vendor id when the exit camera misread the plate', () => {
    expect(asked(departure('鲁A12845')).some((k) => accepted().includes(k))).toBe(false);
    expect(asked(departure('鲁A12845', '41')).some((k) => accepted().includes(k))).toBe(true);
    expect(asked(departure('鲁A12845', '42')).some((k) => accepted().includes(k))).toBe(false);
  });
  it('is told apart by its vendor id from another car without a plate that entered in the same second', () => {
    const mine = entranceOf('无牌车', '41');
    const other = entranceOf('无牌车', '57');
    // Both natural keys are the same: only the id says whose entrance ISP has.
    expect(mine.ok && other.ok && naturalKeyOf(mine.record.key) === naturalKeyOf(other.record.key)).toBe(
      true,
    );
    const leaving = departure('无牌车', '41');
    expect(asked(leaving).some((k) => accepted(other).includes(k))).toBe(false);
    expect(asked(leaving).some((k) => accepted(mine).includes(k))).toBe(true);
    // A departure that names no entrance id asks by the natural key, as before.
    expect(asked(departure('无牌车')).some((k) => accepted(other).includes(k))).toBe(true);
  });
});
