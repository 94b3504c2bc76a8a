/**
 * The web server's pure rules, without services: credentials, loopback, same-origin, the
 * dashboard's write policy, redaction and scrubbing, time formatting and the chart (pure: the
 * server over HTTP is tested in server.test.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import {
  assertBindAllowed,
  challenge,
  isAuthorized,
  isLoopbackHost,
  webCredentials,
} from '../../src/web/auth.js';
import { withoutExternalLinks } from '../../src/web/board.js';
import { boardWriteVerdict, needsJobState } from '../../src/web/board-policy.js';
import { bucketPoints, niceMax, renderDeliveriesChart } from '../../src/web/chart.js';
import { WebConfigError } from '../../src/web/errors.js';
import { createScrubber, redactDeep, SCRUBBED, secretValues } from '../../src/web/redaction.js';
import { loopbackHostVerdict, writeOriginVerdict } from '../../src/web/same-origin.js';
import { formatDuration, formatEpoch, zoneLabel } from '../../src/web/time-format.js';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('credentials', () => {
  const web = { host: '127.0.0.1', port: 0, readOnly: false };

  it('reads Basic and/or a token; none means no credentials; half a pair is an error', () => {
    expect(webCredentials({ ...web })).toBeNull();
    expect(webCredentials({ ...web, user: '', password: '', token: '' })).toBeNull();
    expect(webCredentials({ ...web, token: 't0ken-value' })).toEqual({ token: 't0ken-value' });
    expect(webCredentials({ ...web, user: 'u', password: 'p', token: 't' })).toEqual({
      basic: { user: 'u', password: 'p' },
      token: 't',
    });
    expect(() => webCredentials({ ...web, user: 'u' })).toThrow(WebConfigError);
    expect(() => webCredentials({ ...web, password: 'secret-pw' })).toThrow(/WEB_USER is not set/);
    try {
      webCredentials({ ...web, password: 'secret-pw' });
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-pw');
    }
  });

  it('compares Basic and bearer credentials exactly', () => {
    const creds = { basic: { user: 'operator', password: 'pa:ss wörd' }, token: 'tok-123' };
    expect(isAuthorized(basic('operator', 'pa:ss wörd'), creds)).toBe(true);
    expect(isAuthorized('Bearer tok-123', creds)).toBe(true);
    expect(isAuthorized('BEARER tok-123', creds)).toBe(true);
    expect(isAuthorized(undefined, creds)).toBe(false);
    expect(isAuthorized('', creds)).toBe(false);
    expect(isAuthorized(basic('operator', 'pa:ss wörd '), creds)).toBe(false);
    expect(isAuthorized(basic('Operator', 'pa:ss wörd'), creds)).toBe(false);
    expect(isAuthorized('Bearer tok-1234', creds)).toBe(false);
    expect(isAuthorized('Bearer ', creds)).toBe(false);
    expect(isAuthorized('Basic tok-123', creds)).toBe(false);
    expect(isAuthorized('Bearer tok-123', { basic: creds.basic })).toBe(false);
    expect(isAuthorized(basic('operator', 'pa:ss wörd'), { token: 'tok-123' })).toBe(false);
  });

  it('accepts no header but the right one (property)', () => {
    const creds = { basic: { user: 'operator', password: 'right-password' }, token: 'right-token' };
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (user, password, token) => {
        const okBasic = user === 'operator' && password === 'right-password';
        expect(isAuthorized(basic(user, password), creds)).toBe(okBasic && !user.includes(':'));
        expect(isAuthorized(`Bearer ${token}`, creds)).toBe(token.trim() === 'right-token');
      }),
    );
  });

  it('challenges with Basic when Basic is configured, else Bearer', () => {
    expect(challenge({ basic: { user: 'u', password: 'p' } })).toBe(
      'Basic realm="isp-park-sync", charset="UTF-8"',
    );
    expect(challenge({ token: 't' })).toBe('Bearer realm="isp-park-sync"');
  });

  it('knows loopback addresses', () => {
    for (const host of [
      '127.0.0.1',
      '127.1.2.3',
      'localhost',
      'LOCALHOST',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
    ])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '128.0.0.1',
      '::2',
      'localhost.example',
      'example.com',
      '',
    ])
      expect(isLoopbackHost(host), host).toBe(false);
  });

  it('refuses a public bind without credentials, naming the variables to set', () => {
    expect(() => assertBindAllowed('127.0.0.1', null)).not.toThrow();
    expect(() => assertBindAllowed('0.0.0.0', { token: 't' })).not.toThrow();
    expect(() => assertBindAllowed('0.0.0.0', null)).toThrow(
      /WEB_USER and WEB_PASSWORD \(HTTP Basic\) or WEB_TOKEN \(bearer\)/,
    );
  });
});

describe('same-origin rules', () => {
  const host = '127.0.0.1:8080';

  it('lets reads through and checks writes against Host', () => {
    expect(writeOriginVerdict('GET', { host, origin: 'http://evil.example' }).ok).toBe(true);
    expect(writeOriginVerdict('PUT', { host, origin: 'http://127.0.0.1:8080' }).ok).toBe(true);
    expect(
      writeOriginVerdict('PUT', { host, 'sec-fetch-site': 'same-origin', origin: 'http://127.0.0.1:8080' })
        .ok,
    ).toBe(true);
    expect(writeOriginVerdict('POST', { host, referer: 'http://127.0.0.1:8080/admin/queues/' }).ok).toBe(
      true,
    );
    expect(writeOriginVerdict('DELETE', { host }).ok).toBe(true); // not a browser: nothing to forge
    for (const headers of [
      { origin: 'http://evil.example' },
      { origin: 'http://127.0.0.1:8081' },
      { origin: 'null' },
      { origin: 'not a url' },
      { referer: 'http://evil.example/x' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'http://127.0.0.1:8080' },
      { 'sec-fetch-site': 'none' },
    ]) {
      expect(writeOriginVerdict('PUT', { host, ...headers }).ok, JSON.stringify(headers)).toBe(false);
    }
    expect(writeOriginVerdict('PUT', { origin: 'http://127.0.0.1:8080' }).ok).toBe(false);
  });

  it('without credentials answers only loopback Host names', () => {
    expect(loopbackHostVerdict('127.0.0.1:8080').ok).toBe(true);
    expect(loopbackHostVerdict('localhost:8080').ok).toBe(true);
    expect(loopbackHostVerdict('[::1]:8080').ok).toBe(true);
    expect(loopbackHostVerdict('evil.example').ok).toBe(false);
    expect(loopbackHostVerdict('evil.example:8080').ok).toBe(false);
    expect(loopbackHostVerdict(undefined).ok).toBe(false);
  });
});

describe('dashboard write policy', () => {
  it('allows replay and tidying, refuses what could drop or invent an event', () => {
    const allowed: Array<[string, string, Record<string, string>]> = [
      ['put', '/api/queues/:queueName/:jobId/retry', {}],
      ['put', '/api/queues/:queueName/retry/:queueStatus', { queueStatus: 'failed' }],
      ['put', '/api/queues/:queueName/promote', {}],
      ['put', '/api/queues/:queueName/:jobId/promote', {}],
      ['put', '/api/queues/:queueName/pause', {}],
      ['put', '/api/queues/resume', {}],
      ['put', '/api/queues/:queueName/clean/:queueStatus', { queueStatus: 'completed' }],
      ['put', '/api/queues/:queueName/job-schedulers/:schedulerId/run', {}],
      ['get', '/api/queues', {}],
    ];
    for (const [method, route, params] of allowed)
      expect(boardWriteVerdict(method, route, params), route).toEqual({ allow: true });
    const refused: Array<[string, string, Record<string, string>]> = [
      ['put', '/api/queues/:queueName/clean/:queueStatus', { queueStatus: 'failed' }],
      ['put', '/api/queues/:queueName/clean/:queueStatus', { queueStatus: 'wait' }],
      ['put', '/api/queues/:queueName/clean/:queueStatus', { queueStatus: 'delayed' }],
      ['put', '/api/queues/:queueName/clean/:queueStatus', { queueStatus: 'active' }],
      ['post', '/api/queues/:queueName/add', {}],
      ['patch', '/api/queues/:queueName/:jobId/update-data', {}],
      ['put', '/api/queues/:queueName/empty', {}],
      ['put', '/api/queues/:queueName/obliterate', {}],
      ['put', '/api/queues/:queueName/job-schedulers/:schedulerId/remove', {}],
      ['patch', '/api/queues/:queueName/job-schedulers/:schedulerId', {}],
      ['put', '/api/queues/:queueName/concurrency', {}],
      ['delete', '/api/some/future/route', {}],
    ];
    for (const [method, route, params] of refused) {
      const verdict = boardWriteVerdict(method, route, params);
      expect(verdict.allow, route).toBe(false);
      if (!verdict.allow) expect(verdict.status).toBe(403);
    }
  });

  it('removes a single job only when it is delivered (completed), never a failed one', () => {
    const route = '/api/queues/:queueName/:jobId/clean';
    expect(needsJobState('put', route)).toBe(true);
    expect(needsJobState('put', '/api/queues/:queueName/:jobId/retry')).toBe(false);
    expect(boardWriteVerdict('put', route, { jobId: '1' }, 'completed').allow).toBe(true);
    const failed = boardWriteVerdict('put', route, { jobId: '1' }, 'failed');
    expect(failed.allow).toBe(false);
    if (!failed.allow) expect(failed.message).toContain('replay --discard');
    const cleanFailed = boardWriteVerdict('put', '/api/queues/:queueName/clean/:queueStatus', {
      queueStatus: 'failed',
    });
    expect(cleanFailed.allow).toBe(false);
    if (!cleanFailed.allow) expect(cleanFailed.message).toContain('replay --discard');
    for (const state of ['waiting', 'delayed', 'active', 'prioritized', 'unknown', undefined]) {
      expect(boardWriteVerdict('put', route, { jobId: '1' }, state).allow, String(state)).toBe(false);
    }
  });
});

describe('redaction', () => {
  const photo = `data:image/jpg;base64,${'QUJD'.repeat(200)}`;

  it('keeps the shape, shortens photos (whole or quoted), drops secret-named scalars', () => {
    const out = redactDeep({
      records: [{ enter_pic: photo, plate_number: '鲁A12345' }],
      auth: { password: 'pw-value-1', user: 'u' },
      token: { valid: true, expiresAt: 17 },
      clientSecret: 'cs-value-1',
      url: 'mysql://reader:db-pass-1@host/db',
      message: `ISP said no to ${photo} today`,
      count: 3,
      missing: null,
    }) as {
      records: Array<Record<string, string>>;
      [key: string]: unknown;
    };
    expect(out.records[0]!.plate_number).toBe('鲁A12345');
    expect(out.records[0]!.enter_pic).toMatch(/^data:image\/jpg;base64,QUJD.*\[photo, 822 bytes\]$/);
    expect(out.auth).toEqual({ password: '[redacted]', user: 'u' });
    expect(out.token).toEqual({ valid: true, expiresAt: 17 });
    expect(out.clientSecret).toBe('[redacted]');
    expect(out.url).toBe('mysql://reader:***@host/db');
    expect(out.message).toMatch(/^ISP said no to data:image\/jpg;base64,QUJD.*\[photo, 822 bytes\] today$/);
    expect(out.count).toBe(3);
    expect(out.missing).toBeNull();
    expect(JSON.stringify(out)).not.toContain('QUJD'.repeat(20));
  });

  it('collects the configured secrets, including URL passwords', () => {
    const config = loadConfig({
      env: {},
      overrides: {
        isp: { auth: { clientSecret: 'isp-secret-1' } },
        vendor: { url: 'mysql://reader:p%40ss-word@127.0.0.1:3306/parking' },
        web: { password: 'web-pass-1', user: 'operator', token: 'abc' },
      },
    });
    const secrets = secretValues(config);
    expect(secrets).toEqual(
      expect.arrayContaining(['isp-secret-1', 'p%40ss-word', 'p@ss-word', 'web-pass-1']),
    );
    expect(secrets).not.toContain('abc'); // too short to scrub by value without mangling text
  });

  it('scrubs secrets raw, JSON-escaped and HTML-escaped', () => {
    const scrub = createScrubber(['s3cr"et<&>', 'plain-secret']);
    expect(scrub('a plain-secret b')).toBe(`a ${SCRUBBED} b`);
    expect(scrub(JSON.stringify({ m: 'x s3cr"et<&> y' }))).toBe(`{"m":"x ${SCRUBBED} y"}`);
    expect(scrub('x s3cr&quot;et&lt;&amp;&gt; y')).toBe(`x ${SCRUBBED} y`);
    expect(createScrubber([])('unchanged')).toBe('unchanged');
    fc.assert(
      fc.property(fc.string(), fc.string(), (before, after) => {
        expect(scrub(`${before}plain-secret${after}`)).not.toContain('plain-secret');
      }),
    );
  });

  it('drops links to other sites from bull-board page', () => {
    const html =
      '<link rel="icon" href="static/x.png">\n<link href="https://fonts.googleapis.com/css2?family=IBM" rel="stylesheet">\n<link href="//cdn.example/x.css" rel="stylesheet">';
    expect(withoutExternalLinks(html)).toBe('<link rel="icon" href="static/x.png">\n\n');
  });
});

describe('times and chart', () => {
  it('writes times in the vendor zone, whatever the process zone', () => {
    expect(formatEpoch(1_772_323_200, 'Asia/Shanghai')).toBe('2026-03-01 08:00:00');
    expect(formatEpoch(1_772_323_200, 'UTC')).toBe('2026-03-01 00:00:00');
    expect(formatEpoch(null, 'Asia/Shanghai')).toBe('—');
    expect(zoneLabel('Asia/Shanghai', 1_772_323_200)).toBe('Asia/Shanghai (UTC+08:00)');
  });

  it('writes durations in short units', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(-3)).toBe('0 s');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(720)).toBe('12 min');
    expect(formatDuration(3 * 3600 + 5 * 60)).toBe('3 h 05 min');
    expect(formatDuration(2 * 86_400 + 4 * 3600)).toBe('2 d 4 h');
  });

  it('sums long ranges into at most 240 bars, keeping the total', () => {
    const points = Array.from({ length: 24 * 60 }, (_, i) => ({
      minute: 1_772_323_200 + i * 60,
      count: i % 7,
    }));
    const { bars, minutesPerBar } = bucketPoints(points);
    expect(minutesPerBar).toBe(6);
    expect(bars).toHaveLength(240);
    expect(bars.reduce((n, b) => n + b.count, 0)).toBe(points.reduce((n, p) => n + p.count, 0));
    expect(bucketPoints(points.slice(0, 90)).minutesPerBar).toBe(1);
  });

  it('draws one bar per non-empty minute, labelled in the vendor zone', () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(13)).toBe(20);
    expect(niceMax(200)).toBe(200);
    const points = Array.from({ length: 60 }, (_, i) => ({
      minute: 1_772_323_200 + i * 60,
      count: i === 5 ? 9 : 0,
    }));
    const svg = renderDeliveriesChart(points, 'Asia/Shanghai');
    expect(svg.match(/<rect /g)).toHaveLength(1);
    expect(svg).toContain('<title>08:05: 9</title>');
    expect(svg).toContain('>08:00</text>');
    expect(svg).toContain('9 in total');
    expect(renderDeliveriesChart([], 'Asia/Shanghai')).toContain('No chart data');
  });
});
