import { describe, expect, it } from 'vitest';
import { classifyAnswer, parseRetryAfter } from '../../src/isp/index.js';

const json = (value: unknown) => JSON.stringify(value);

describe('classifyAnswer', () => {
  it.each([
    [200, json({ code: 0, msg: 'success' }), { kind: 'delivered', code: 0, message: 'success' }],
    [200, json({ code: 200, message: 'ok' }), { kind: 'delivered', code: 200, message: 'ok' }],
    [201, json({ code: '0', msg: 'success' }), { kind: 'delivered', code: 0, message: 'success' }],
  ])('HTTP %i %s is delivered', (status, body, expected) => {
    expect(classifyAnswer({ status, body })).toEqual(expected);
  });

  it('code 1 is rejected with ISP’s message verbatim', () => {
    expect(classifyAnswer({ status: 200, body: json({ code: 1, msg: '[0].enter_time: bad' }) })).toEqual({
      kind: 'rejected',
      message: '[0].enter_time: bad',
      status: 200,
    });
  });

  it('a 401 by HTTP status or by body code asks for a new token', () => {
    expect(classifyAnswer({ status: 401, body: '' }).kind).toBe('unauthorized');
    expect(classifyAnswer({ status: 200, body: json({ code: 401, msg: 'token expired' }) })).toMatchObject({
      kind: 'unauthorized',
      message: 'token expired',
    });
  });

  it.each([
    [500, json({ code: 500, msg: 'system error' })],
    [502, '<html>bad gateway</html>'],
    [503, ''],
    [200, json({ code: 500, msg: 'system error' })],
    [200, 'not json'],
    [200, json({ msg: 'no code' })],
    [200, json({ code: 7, msg: 'unknown code' })],
    [404, json({ code: 0, msg: 'success' })],
    [302, json({ code: 0, msg: 'success' })],
    [403, 'forbidden'],
  ])('HTTP %i %s is retryable, never delivered', (status, body) => {
    expect(classifyAnswer({ status, body }).kind).toBe('retryable');
  });

  it('payload-shaped 4xx are rejected', () => {
    expect(classifyAnswer({ status: 413, body: json({ code: 1, msg: 'too large' }) })).toMatchObject({
      kind: 'rejected',
      status: 413,
    });
    expect(classifyAnswer({ status: 400, body: 'bad' }).kind).toBe('rejected');
  });

  it('429 honours Retry-After', () => {
    expect(classifyAnswer({ status: 429, body: '', retryAfter: '7' })).toMatchObject({
      kind: 'retryable',
      status: 429,
      retryAfterMs: 7000,
    });
    expect(classifyAnswer({ status: 429, body: '' })).not.toHaveProperty('retryAfterMs');
  });

  it('quotes long bodies short', () => {
    const outcome = classifyAnswer({ status: 502, body: 'x'.repeat(10_000) });
    expect(outcome.kind === 'retryable' && outcome.reason.length).toBeLessThan(400);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-28T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
