/**
 * URL redaction holds whatever a password contains: random passwords (any character, `@`, `:`,
 * `/`, `%`, `#` made likely) in a whole URL, raw or percent-encoded, and in URLs quoted inside
 * error texts and JSON, never come out again.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactForDisplay, redactUrl, urlPasswords } from '../src/redact.js';

/** Passwords of any characters, with the ones that break naive URL parsing made frequent. */
const password = fc.oneof(
  fc.string({ minLength: 1, maxLength: 24, unit: 'binary' }),
  fc
    .array(fc.constantFrom('@', ':', '/', '%', '#', '?', 'a', 'Z', '9', '%40', '@@', '//', ' '), {
      minLength: 1,
      maxLength: 16,
    })
    .map((parts) => parts.join('')),
);
const user = fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/);
const scheme = fc.constantFrom('mysql', 'redis', 'rediss', 'https', 'http');
const rest = fc.constantFrom('host.example:3306/db', '127.0.0.1:6379/2', 'isp.example/api', 'h');

describe('redactUrl', () => {
  it('masks exactly the password of a whole URL, raw or encoded, for any password', () => {
    fc.assert(
      fc.property(scheme, user, password, rest, (s, u, p, r) => {
        for (const written of [p, encodeURIComponent(p)]) {
          expect(redactUrl(`${s}://${u}:${written}@${r}`)).toBe(`${s}://${u}:***@${r}`);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('masks a URL quoted inside text or JSON when its password has no space or quote', () => {
    const plain = password.filter((p) => !/[\s"'<>]/.test(p));
    fc.assert(
      fc.property(scheme, user, plain, rest, (s, u, p, r) => {
        const url = `${s}://${u}:${p}@${r}`;
        const masked = `${s}://${u}:***@${r}`;
        expect(redactUrl(`connect to ${url} failed`)).toBe(`connect to ${masked} failed`);
        expect(redactUrl(JSON.stringify({ url, n: 1 }))).toBe(JSON.stringify({ url: masked, n: 1 }));
        expect(redactForDisplay({ nested: [`at ${url}`] })).toEqual({ nested: [`at ${masked}`] });
      }),
      { numRuns: 1_000 },
    );
  });

  it('finds the password as written and decoded', () => {
    fc.assert(
      fc.property(user, password, (u, p) => {
        expect(urlPasswords(`mysql://${u}:${p}@host/db`)).toContain(p);
        expect(urlPasswords(`mysql://${u}:${encodeURIComponent(p)}@host/db`)).toContain(p);
      }),
    );
  });

  it('leaves URLs without a password and plain text alone', () => {
    for (const text of [
      'mysql://reader@host:3306/db',
      'redis://127.0.0.1:6379',
      'https://isp.example/api/v1/parks?x=1',
      '127.0.0.1:3306/parking',
      'no url here: a@b',
    ]) {
      expect(redactUrl(text)).toBe(text);
    }
  });
});

describe('redactForDisplay by key', () => {
  it('replaces secrets and tokens, not every key that mentions a token', () => {
    const shown = redactForDisplay({
      isp: { auth: { clientSecret: 's3', password: 'pw', tokenPath: '/oauth/token', clientId: 'id' } },
      web: { token: 't0k', user: 'admin' },
      headers: { authorization: 'Bearer x', accessToken: 'a', access_token: 'b' },
    });
    expect(shown).toEqual({
      isp: {
        auth: {
          clientSecret: '[redacted]',
          password: '[redacted]',
          tokenPath: '/oauth/token',
          clientId: 'id',
        },
      },
      web: { token: '[redacted]', user: 'admin' },
      headers: { authorization: '[redacted]', accessToken: '[redacted]', access_token: '[redacted]' },
    });
  });
});
