/**
 * The record-by-record gate of a low-latency follower (`mayGoNow`): a departure goes once its own
 * entrance is settled, by time (before the entrance watermark, sweep included) or because ISP
 * accepted that entrance; without a named entrance, once its own time is before the watermark.
 */
import { describe, expect, it } from 'vitest';
import { mayGoNow } from '../../../src/pipeline/events/departure-gate.js';
import { GATE_NOT_STARTED } from '../../../src/pipeline/events/poll.js';

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
