import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { buildTokenRequest, IspConfigError, scrubSecrets } from '../../src/isp/index.js';

function auth(overrides: Record<string, unknown>) {
  return parseConfig({
    isp: { baseUrl: 'http://127.0.0.1:1', auth: overrides },
    vendor: { url: 'mysql://root@127.0.0.1/x' },
    streams: {
      parks: { from: 'p', columns: { parkCode: 'c' } },
      spotNums: { from: 'p', columns: { parkCode: 'c', total: 't', used: 'u' } },
      entrances: {
        from: 'e',
        cursor: { time: 't', id: 'i' },
        columns: { parkCode: 'c', plateNumber: 'p', enterTime: 't' },
      },
      departures: {
        from: 'd',
        cursor: { time: 't', id: 'i' },
        columns: { parkCode: 'c', plateNumber: 'p', departTime: 't' },
      },
    },
  }).isp.auth;
}

describe('buildTokenRequest', () => {
  it('defaults to JSON client credentials in the body (open point 1)', () => {
    const request = buildTokenRequest(auth({ clientId: 'id', clientSecret: 'sec' }));
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.authorization).toBeUndefined();
    expect(JSON.parse(request.body)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'id',
      client_secret: 'sec',
    });
  });

  it('form body, HTTP Basic, grant type, user and extra fields', () => {
    const request = buildTokenRequest(
      auth({
        clientId: 'id',
        clientSecret: 's:c',
        clientAuth: 'basic',
        bodyFormat: 'form',
        grantType: 'password',
        username: 'u',
        password: 'p&w',
        extraFields: { scope: 'all', grant_type: 'ignored' },
      }),
    );
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('id:s:c').toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      scope: 'all',
      grant_type: 'password',
      username: 'u',
      password: 'p&w',
    });
  });

  it('refuses to run without credentials, naming the variables', () => {
    expect(() => buildTokenRequest(auth({}))).toThrow(IspConfigError);
    expect(() => buildTokenRequest(auth({}))).toThrow(/ISP_CLIENT_ID/);
  });
});

describe('scrubSecrets', () => {
  it('removes secrets, their URL-encoded form and credentials in headers', () => {
    const text = scrubSecrets('secret p@ss! and p%40ss! Basic aWQ6c2VjcmV0 Bearer eyJhbGciOi.x.y', ['p@ss!']);
    expect(text).toBe('secret *** and *** Basic *** Bearer ***');
  });
});
