/**
 * The operator web server over real loopback HTTP, on real BullMQ queues in the local Redis (see
 * web-fixture.ts): every endpoint, authentication, the bind refusal, CSRF and read-only refusals,
 * the dashboard's write policy, and that no photo or secret leaves in a body or a log line.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { FleetStatus, StatusSnapshot } from '../../src/pipeline/status-types.js';
import { IdGaps } from '../../src/state/id-gaps.js';
import { WebConfigError } from '../../src/web/errors.js';
import { startWebServer, type WebServer } from '../../src/web/server.js';
import { basicAuth, createWebFixture, FORBIDDEN, PHOTO_PIECES, SECRETS, type WebFixture } from './fixture.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http rather than fetch: the tests set Host, Origin and Sec-Fetch-Site themselves. */
function call(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: options.method ?? 'GET',
        headers: {
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

const BASIC = { authorization: basicAuth() };

function leaks(text: string): string[] {
  return FORBIDDEN.filter((secret) => text.includes(secret));
}

/** `data-testid="x" data-value="v"` pairs of the status page. */
function testValues(html: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of html.matchAll(/data-testid="([^"]+)" data-value="([^"]*)"/g)) {
    const list = out.get(m[1]!) ?? [];
    list.push(m[2]!);
    out.set(m[1]!, list);
  }
  return out;
}

describe('web server with credentials (real HTTP, real queues)', () => {
  let fx: WebFixture;
  let server: WebServer;
  let get: (path: string, headers?: Record<string, string>) => Promise<Reply>;

  beforeAll(async () => {
    fx = await createWebFixture();
    server = await startWebServer(fx.deps());
    get = (path, headers = BASIC) => call(server.url, path, { headers });
  });
  afterAll(async () => {
    await server?.close();
    await fx?.close();
  });

  const protectedPaths = () => [
    '/',
    '/api/status',
    '/metrics',
    '/readyz',
    '/admin/queues',
    '/admin/queues/queue/push-entrances',
    '/admin/queues/api/queues',
    `/admin/queues/api/queues/push-entrances/${fx.failedJobId}`,
    `/admin/queues/api/queues/push-entrances/${fx.failedJobId}/logs`,
    '/admin/queues/static/favicon-32x32.png',
  ];

  it('binds to loopback on the port it was given (0: a free one)', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).toBeGreaterThan(0);
  });

  it('refuses every page but /healthz without credentials, with a Basic challenge', async () => {
    for (const path of protectedPaths()) {
      const reply = await get(path, {});
      expect(reply.status, path).toBe(401);
      expect(reply.headers['www-authenticate'], path).toMatch(/^Basic realm="isp-park-sync"/);
    }
    expect((await get('/healthz', {})).status).toBe(200);
  });

  it('refuses wrong credentials of every kind', async () => {
    const wrong = [
      basicAuth(SECRETS.webUser, 'wrong-password'),
      basicAuth('intruder', SECRETS.webPassword),
      basicAuth(SECRETS.webUser, `${SECRETS.webPassword}x`),
      `Basic ${Buffer.from(SECRETS.webPassword).toString('base64')}`,
      `Bearer ${SECRETS.webToken}x`,
      `Bearer ${SECRETS.webPassword}`,
      `Basic ${SECRETS.webToken}`,
      SECRETS.webToken,
      'Bearer',
    ];
    for (const authorization of wrong) {
      const reply = await get('/api/status', { authorization });
      expect(reply.status, authorization).toBe(401);
      expect(reply.body).not.toContain(SECRETS.webPassword);
    }
  });

  it('accepts HTTP Basic and the bearer token', async () => {
    expect((await get('/api/status', BASIC)).status).toBe(200);
    expect((await get('/api/status', { authorization: `Bearer ${SECRETS.webToken}` })).status).toBe(200);
    expect((await get('/api/status', { authorization: `bearer ${SECRETS.webToken}` })).status).toBe(200);
  });

  it('/healthz answers without credentials, 200 or 503 following health()', async () => {
    let reply = await get('/healthz', {});
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ ok: true, details: { consumed: true } });
    fx.flags.healthy = false;
    try {
      reply = await get('/healthz', {});
      expect(reply.status).toBe(503);
      expect(JSON.parse(reply.body)).toMatchObject({ ok: false, details: { consumed: false } });
    } finally {
      fx.flags.healthy = true;
    }
    expect((await get('/healthz', {})).status).toBe(200);
  });

  it('/readyz reports each check and answers 503 when one fails', async () => {
    let reply = await get('/readyz');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({
      ok: true,
      checks: { redis: { ok: true }, mysql: { ok: true }, isp: { ok: true } },
    });
    fx.flags.ispReachable = false;
    try {
      reply = await get('/readyz');
      expect(reply.status).toBe(503);
      const body = JSON.parse(reply.body);
      expect(body.ok).toBe(false);
      expect(body.checks.redis).toEqual({ ok: true });
      expect(body.checks.isp.ok).toBe(false);
      expect(body.checks.isp.message).toContain('ISP unreachable');
      expect(leaks(reply.body)).toEqual([]);
    } finally {
      fx.flags.ispReachable = true;
    }
  });

  it('/metrics serves Prometheus text with the depth of every queue of its source, refreshed on each scrape', async () => {
    const reply = await get('/metrics');
    expect(reply.status).toBe(200);
    expect(String(reply.headers['content-type'])).toContain('text/plain');
    expect(reply.body).toContain('# TYPE isp_sync_queue_depth gauge');
    expect(reply.body).toMatch(
      /isp_sync_queue_depth\{source="default",queue="push-entrances",state="failed"\} 2\n/,
    );
    expect(reply.body).toMatch(
      /isp_sync_queue_depth\{source="default",queue="push-entrances",state="completed"\} 1\n/,
    );
    expect(reply.body).toMatch(
      /isp_sync_queue_depth\{source="default",queue="push-departures",state="wait"\} 1\n/,
    );
    expect(reply.body).toMatch(
      /isp_sync_queue_depth\{source="default",queue="push-departures",state="delayed"\} 1\n/,
    );
    for (const name of fx.queues.all().map((q) => q.name)) {
      expect(reply.body).toContain(`isp_sync_queue_depth{source="default",queue="${name}",state="wait"}`);
    }
    const extra = await fx.queues.push.departures.add(
      'departures-batch',
      { records: [] },
      { jobId: 'departures-w-2' },
    );
    try {
      expect((await get('/metrics')).body).toMatch(
        /isp_sync_queue_depth\{source="default",queue="push-departures",state="wait"\} 2\n/,
      );
    } finally {
      await extra.remove();
    }
  });

  it('/api/status is the snapshot status() builds, with photos and secrets redacted', async () => {
    const reply = await get('/api/status');
    expect(reply.status).toBe(200);
    // One source: its snapshot at the top as before sources existed, and the sources beside it.
    const { sources, idle, ...api } = JSON.parse(reply.body) as StatusSnapshot & FleetStatus;
    const direct = await fx.status();
    // Fields that move with the clock between the two calls.
    const still = (s: StatusSnapshot) => ({
      ...s,
      generatedAt: 0,
      isp: { ...s.isp, token: { ...s.isp.token, expiresAt: 0 } },
      streams: s.streams.map((st) => ({
        ...st,
        lagSeconds: 0,
        lastError: st.lastError ? { ...st.lastError, message: '' } : null,
      })),
      deliveredPerMinute: [],
    });
    expect(still(api)).toEqual(still(direct));
    expect(sources.map((s) => s.name)).toEqual(['default']);
    expect(still(sources[0]!.status!)).toEqual(still(direct));
    expect(idle).toEqual([]);
    const alone = await get('/api/status?source=default');
    expect(alone.status).toBe(200);
    expect(still(JSON.parse(alone.body))).toEqual(still(direct));
    const unknown = await get('/api/status?source=nowhere');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error).toBe('source "nowhere" is not running here (running: default)');
    const entrances = api.streams.find((s) => s.stream === 'entrances')!;
    expect(entrances.delivered).toEqual({ lastHour: 10, lastDay: 21, total: 21 });
    expect(entrances.failed).toBe(2);
    expect(entrances.lastError?.message).toContain('ECONNREFUSED');
    expect(entrances.lastError?.message).toContain('[redacted]');
    expect(entrances.lastError?.message).toContain('[photo, ');
    expect(api.streams.find((s) => s.stream === 'departures')!.quarantined).toBe(2);
    expect(api.isp.token).toMatchObject({ valid: true });
    expect(api.deliveredPerMinute.reduce((n, p) => n + p.count, 0)).toBe(10 + 11 + 4 + 2);
    expect(leaks(reply.body)).toEqual([]);
  });

  it('/ shows every number of the snapshot under a stable data-testid, times in the vendor zone', async () => {
    const reply = await get('/');
    expect(reply.status).toBe(200);
    expect(String(reply.headers['content-type'])).toContain('text/html');
    const html = reply.body;
    const api = JSON.parse((await get('/api/status')).body) as StatusSnapshot;
    const values = testValues(html);
    const one = (id: string) => {
      const list = values.get(id);
      expect(list, id).toHaveLength(1);
      return list![0]!;
    };
    for (const s of api.streams) {
      expect(one(`delivered-hour-${s.stream}`)).toBe(String(s.delivered.lastHour));
      expect(one(`delivered-day-${s.stream}`)).toBe(String(s.delivered.lastDay));
      expect(one(`failed-${s.stream}`)).toBe(String(s.failed));
      expect(one(`quarantined-${s.stream}`)).toBe(String(s.quarantined));
      expect(one(`waiting-${s.stream}`)).toBe(String(s.push.waiting));
      expect(one(`delayed-${s.stream}`)).toBe(String(s.push.delayed));
      expect(one(`read-up-to-${s.stream}`)).toBe(String(s.readUpTo ?? ''));
      expect(one(`checkpoint-${s.stream}`)).toBe(s.checkpoint?.time ?? '');
      expect(one(`last-error-${s.stream}`)).toBe(String(s.lastError?.at ?? ''));
    }
    expect(one('delivered-hour-total')).toBe('16');
    expect(one('isp-reachable')).toBe('true');
    expect(one('isp-token-valid')).toBe('true');
    expect(one('chart-total')).toBe(String(api.deliveredPerMinute.reduce((n, p) => n + p.count, 0)));
    expect(values.get('lot-last-entrance')).toEqual(api.lots.map((l) => String(l.lastEntrance ?? '')));
    expect(values.get('lot-remain')).toEqual(['37', '']);
    // Times shown in the vendor's zone, and the page says so.
    expect(html).toContain('Asia/Shanghai (UTC+08:00)');
    expect(html).toContain('2026-03-01 08:00:00'); // lot ATXL/1's last entrance, 1772323200 in Shanghai
    expect(html).toMatch(/<meta http-equiv="refresh" content="\d+">/);
    expect(html).toContain('<svg data-testid="chart"');
    // Self-contained: nothing loaded from elsewhere.
    expect(html).not.toMatch(/<(script|link|img)\b[^>]*(src|href)="(https?:)?\/\//i);
    expect(String(reply.headers['content-security-policy'])).toContain("default-src 'none'");
    expect(html).not.toContain('data-testid="no-auth-notice"');
    expect(leaks(html)).toEqual([]);
  });

  it('/ and /api/status show the open id gaps of a stream that probes them, and nothing for the others', async () => {
    const gaps = new IdGaps(fx.redis.client, fx.redis.prefix, 'entrances');
    // Ids 100 and 104 read, first seen 90 s ago: 101–103 are open.
    await gaps.note(['100', '104'], Date.now() - 90_000);
    try {
      const api = JSON.parse((await get('/api/status')).body) as StatusSnapshot;
      const entrances = api.streams.find((s) => s.stream === 'entrances')!;
      expect(entrances.idGaps?.open).toBe(3);
      expect(entrances.idGaps?.oldestSeconds).toBeGreaterThanOrEqual(89);
      expect(entrances.idGaps?.oldestSeconds).toBeLessThanOrEqual(95);
      expect(api.streams.find((s) => s.stream === 'departures')!.idGaps).toBeNull();
      const values = testValues((await get('/')).body);
      expect(values.get('id-gaps-entrances')).toEqual(['3']);
      expect(values.get('id-gaps-oldest-entrances')).toEqual([String(entrances.idGaps!.oldestSeconds)]);
      expect(values.has('id-gaps-departures')).toBe(false);
    } finally {
      await gaps.clear();
    }
  });

  it('/ lists the active lot health alerts, oldest first, as /api/status has them', async () => {
    const html = (await get('/')).body;
    const api = JSON.parse((await get('/api/status')).body) as StatusSnapshot;
    expect(api.healthAlerts.map((a) => `${a.alert} ${a.lot || a.stream}`)).toEqual([
      'quiet-lot ATXL/2',
      'delivery-latency entrances',
    ]);
    const items = [
      ...html.matchAll(
        /<li class="notice" data-testid="health-alert" data-alert="([^"]*)" data-lot="([^"]*)" data-stream="([^"]*)" data-since="(\d+)">/g,
      ),
    ];
    expect(items.map((m) => [m[1], m[2], m[3], Number(m[4])])).toEqual(
      api.healthAlerts.map((a) => [a.alert, a.lot, a.stream, a.since]),
    );
    expect(html).toContain('<h2>Lot health alerts (2)</h2>');
    expect(html).toContain(
      'lot ATXL/2 has had no entrance or departure for 2 h 5 min &lt;b&gt;check&lt;/b&gt;',
    );
    expect(html).not.toContain('<b>check</b>');
  });

  it('serves the queue dashboard over every queue, without external resources', async () => {
    const page = await get('/admin/queues');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<base href="/admin/queues/"');
    expect(page.body).not.toContain('fonts.googleapis.com');
    expect(page.body).not.toMatch(/<(script|link)\b[^>]*(src|href)="(https?:)?\/\//i);
    expect(String(page.headers['content-security-policy'])).toContain("default-src 'self'");
    const asset = /src="(static\/js\/main\.[^"]+\.js)"/.exec(page.body)?.[1];
    expect(asset).toBeDefined();
    expect((await get(`/admin/queues/${asset}`)).status).toBe(200);
    const api = JSON.parse((await get('/admin/queues/api/queues')).body) as {
      queues: Array<{ name: string }>;
    };
    expect(api.queues.map((q) => q.name).sort()).toEqual(
      fx.queues
        .all()
        .map((q) => q.name)
        .sort(),
    );
  });

  it('shows job data, results, errors and logs with photos and secrets redacted', async () => {
    const failed = JSON.parse(
      (await get('/admin/queues/api/queues?activeQueue=push-entrances&status=failed&page=1&jobsPerPage=10'))
        .body,
    );
    const jobs = failed.queues.find((q: { name: string }) => q.name === 'push-entrances').jobs;
    const job = jobs.find((j: { id: string }) => j.id === fx.failedJobId);
    expect(job.data.records[0].plate_number).toBe('鲁A12345');
    expect(job.data.records[0].enter_pic).toMatch(/\[photo, \d+ bytes\]$/);
    expect(job.data.clientSecret).toBe('[redacted]');
    expect(job.data.vendorUrl).toBe('mysql://reader:***@127.0.0.1:3306/parking_demo');
    expect(job.failedReason).toContain('ISP rejected record');
    expect(job.failedReason).toContain('[photo, ');
    const detail = await get(`/admin/queues/api/queues/push-entrances/${fx.completedJobId}`);
    expect(JSON.parse(detail.body).job.returnValue).toMatchObject({ accepted: 1, token: '[redacted]' });
    const logs = JSON.parse(
      (await get(`/admin/queues/api/queues/push-entrances/${fx.failedJobId}/logs`)).body,
    );
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('sending with password [redacted]');
    for (const reply of [detail, ...(await Promise.all([get('/admin/queues/api/queues')]))]) {
      expect(leaks(reply.body)).toEqual([]);
    }
  });

  it('never puts a photo or a secret in any response', async () => {
    fx.flags.ispReachable = false;
    fx.flags.healthy = false;
    try {
      const paths = [
        ...protectedPaths(),
        '/healthz',
        '/nowhere',
        '/admin/queues/api/redis/stats',
        '/admin/queues/api/job-schedulers',
        ...['latest', 'failed', 'completed', 'waiting', 'delayed'].flatMap((status) =>
          fx.queues
            .all()
            .map(
              (q) => `/admin/queues/api/queues?activeQueue=${q.name}&status=${status}&page=1&jobsPerPage=50`,
            ),
        ),
        ...[fx.failedJobId, fx.failedJobId2, fx.completedJobId].flatMap((id) => [
          `/admin/queues/api/queues/push-entrances/${id}`,
          `/admin/queues/api/queues/push-entrances/${id}/logs`,
        ]),
      ];
      let checked = 0;
      for (const path of paths) {
        for (const headers of [BASIC, {}]) {
          const reply = await get(path, headers);
          expect(leaks(reply.body), `${path} ${reply.status}`).toEqual([]);
          expect(leaks(JSON.stringify(reply.headers)), path).toEqual([]);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(80);
      // The raw data really holds them: the check above is not vacuous.
      const raw = await fx.queues.push.entrances.getJob(fx.failedJobId);
      expect(JSON.stringify(raw?.data)).toContain(SECRETS.ispClientSecret);
      expect(JSON.stringify(raw?.data)).toContain(PHOTO_PIECES[0]);
    } finally {
      fx.flags.ispReachable = true;
      fx.flags.healthy = true;
    }
  });

  it('refuses a write from a foreign origin (CSRF) and leaves the job alone', async () => {
    const path = `/admin/queues/api/queues/push-entrances/${fx.failedJobId}/retry`;
    const foreign: Array<Record<string, string>> = [
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { origin: server.url.replace('127.0.0.1', 'localhost') },
      { 'sec-fetch-site': 'cross-site', origin: server.url },
      { 'sec-fetch-site': 'same-site' },
      { referer: 'http://evil.example/page' },
    ];
    for (const headers of foreign) {
      const reply = await call(server.url, path, { method: 'PUT', headers: { ...BASIC, ...headers } });
      expect(reply.status, JSON.stringify(headers)).toBe(403);
      expect(reply.body).toContain('cross-site write refused');
    }
    expect(await fx.queues.push.entrances.getJobState(fx.failedJobId)).toBe('failed');
  });

  it('retries a failed job from its own origin (the dashboard button)', async () => {
    const path = `/admin/queues/api/queues/push-entrances/${fx.failedJobId}/retry`;
    const reply = await call(server.url, path, {
      method: 'PUT',
      headers: { ...BASIC, origin: server.url, 'sec-fetch-site': 'same-origin' },
    });
    expect(reply.status).toBe(204);
    expect(await fx.queues.push.entrances.getJobState(fx.failedJobId)).not.toBe('failed');
  });

  it('allows only write actions that cannot drop an undelivered event', async () => {
    const write = (method: string, path: string, body?: unknown) =>
      call(server.url, `/admin/queues/api${path}`, {
        method,
        headers: { ...BASIC, origin: server.url },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    const refused = [
      await write('POST', '/queues/push-departures/add', { name: 'x', data: { records: [] }, options: {} }),
      await write('PATCH', `/queues/push-entrances/${fx.failedJobId2}/update-data`, {
        jobData: { records: [] },
      }),
      await write('PUT', '/queues/push-departures/clean/wait'),
      await write('PUT', '/queues/push-departures/clean/delayed'),
      await write('PUT', `/queues/push-departures/${fx.waitingJobId}/clean`),
      await write('PUT', '/queues/push-departures/empty'),
      await write('PUT', '/queues/push-departures/obliterate', {}),
    ];
    for (const reply of refused) {
      expect(reply.status, reply.body).toBe(403);
      expect(JSON.parse(reply.body).message).toMatch(/drop undelivered|disabled/);
    }
    expect(await fx.queues.push.departures.getJobCounts('wait', 'delayed')).toEqual({ wait: 1, delayed: 1 });
    expect(await fx.queues.push.departures.getJobState(fx.waitingJobId)).toBe('waiting');
    // A failed job is an undelivered event: neither cleaned as a set nor removed one by one.
    const failedBefore = await fx.queues.push.entrances.getJobCounts('failed');
    for (const reply of [
      await write('PUT', '/queues/push-entrances/clean/failed'),
      await write('PUT', `/queues/push-entrances/${fx.failedJobId2}/clean`),
    ]) {
      expect(reply.status, reply.body).toBe(403);
      expect(JSON.parse(reply.body).message).toContain('replay --discard');
    }
    expect(await fx.queues.push.entrances.getJobState(fx.failedJobId2)).toBe('failed');
    expect(await fx.queues.push.entrances.getJobCounts('failed')).toEqual(failedBefore);
    // A delivered job may go.
    const removed = await write('PUT', `/queues/push-entrances/${fx.completedJobId}/clean`);
    expect(removed.status).toBe(204);
    expect(await fx.queues.push.entrances.getJob(fx.completedJobId)).toBeFalsy();
  });

  it('writes no credential, secret or photo to its log', () => {
    const log = fx.logLines.join('');
    expect(log).toContain('authentication required');
    expect(log).toContain('cross-site write refused');
    expect(leaks(log)).toEqual([]);
    expect(log).not.toContain(basicAuth().slice('Basic '.length));
  });
});

describe('read-only dashboard', () => {
  let fx: WebFixture;
  let server: WebServer;
  beforeAll(async () => {
    fx = await createWebFixture({ web: { readOnly: true } });
    server = await startWebServer(fx.deps());
  });
  afterAll(async () => {
    await server?.close();
    await fx?.close();
  });

  it('refuses every write, shows everything, and tells bull-board to hide its buttons', async () => {
    for (const [method, path] of [
      ['PUT', `/admin/queues/api/queues/push-entrances/${fx.failedJobId}/retry`],
      ['PUT', '/admin/queues/api/queues/push-entrances/retry/failed'],
      ['PUT', '/admin/queues/api/queues/push-entrances/clean/completed'],
      ['PUT', '/admin/queues/api/queues/push-entrances/pause'],
    ] as const) {
      const reply = await call(server.url, path, { method, headers: { ...BASIC, origin: server.url } });
      expect(reply.status, path).toBe(403);
      expect(reply.body).toContain('read-only');
    }
    expect(await fx.queues.push.entrances.getJobState(fx.failedJobId)).toBe('failed');
    expect(await fx.queues.push.entrances.isPaused()).toBe(false);
    const queues = JSON.parse(
      (await call(server.url, '/admin/queues/api/queues', { headers: BASIC })).body,
    ).queues;
    expect(queues.length).toBe(fx.queues.all().length);
    expect(queues.every((q: { readOnlyMode: boolean }) => q.readOnlyMode)).toBe(true);
    const page = await call(server.url, '/', { headers: BASIC });
    expect(page.status).toBe(200);
    expect(page.body).toContain('data-testid="read-only-notice"');
  });
});

describe('credentials and bind address', () => {
  const baseOverrides = { redis: { prefix: '{unused}' } };
  const configWith = (web: Record<string, unknown>) =>
    loadConfig({ env: {}, overrides: { ...baseOverrides, web: { port: 0, ...web } } });
  const unusedDeps = {
    sources: () => [],
    status: () => Promise.reject(new Error('not reached')),
    health: () => Promise.reject(new Error('not reached')),
    ready: () => Promise.reject(new Error('not reached')),
  };

  it('refuses to serve without credentials on anything but loopback', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'dashboard.example']) {
      const attempt = startWebServer({ ...unusedDeps, config: configWith({ host }) });
      await expect(attempt, host).rejects.toBeInstanceOf(WebConfigError);
      await expect(attempt, host).rejects.toThrow(/WEB_USER and WEB_PASSWORD .* or WEB_TOKEN/);
    }
  });

  it('refuses half a Basic pair', async () => {
    await expect(
      startWebServer({ ...unusedDeps, config: configWith({ host: '127.0.0.1', user: 'operator' }) }),
    ).rejects.toThrow(/WEB_PASSWORD is not set/);
    await expect(
      startWebServer({ ...unusedDeps, config: configWith({ host: '127.0.0.1', password: 'pw-only-123' }) }),
    ).rejects.toThrow(/WEB_USER is not set/);
  });

  it('serves on a public address once credentials are set', async () => {
    const server = await startWebServer({
      ...unusedDeps,
      config: configWith({ host: '0.0.0.0', token: SECRETS.webToken }),
    });
    try {
      const local = server.url.replace('0.0.0.0', '127.0.0.1');
      const reply = await call(local, '/api/status');
      expect(reply.status).toBe(401);
      expect(reply.headers['www-authenticate']).toBe('Bearer realm="isp-park-sync"');
    } finally {
      await server.close();
    }
  });

  it('fails to start, and cleans up, when the port is taken', async () => {
    const first = await startWebServer({ ...unusedDeps, config: configWith({ host: '127.0.0.1' }) });
    try {
      await expect(
        startWebServer({ ...unusedDeps, config: configWith({ host: '127.0.0.1', port: first.port }) }),
      ).rejects.toThrow(/EADDRINUSE/);
      expect((await call(first.url, '/healthz')).status).toBe(503); // health() rejects: the first still serves
    } finally {
      await first.close();
    }
  });

  describe('without credentials on loopback', () => {
    let fx: WebFixture;
    let server: WebServer;
    beforeAll(async () => {
      fx = await createWebFixture({ web: { user: undefined, password: undefined, token: undefined } });
      server = await startWebServer(fx.deps());
    });
    afterAll(async () => {
      await server?.close();
      await fx?.close();
    });

    it('serves without authentication and says so on the page', async () => {
      const page = await call(server.url, '/');
      expect(page.status).toBe(200);
      expect(page.body).toContain('data-testid="no-auth-notice"');
      expect((await call(server.url, '/api/status')).status).toBe(200);
      expect((await call(server.url.replace('127.0.0.1', 'localhost'), '/api/status')).status).toBe(200);
    });

    it('answers only requests addressed to a loopback name (DNS rebinding)', async () => {
      const reply = await call(server.url, '/api/status', { headers: { host: 'evil.example' } });
      expect(reply.status).toBe(403);
      expect(reply.body).toContain('answers only at 127.0.0.1/localhost');
    });

    it('still refuses a cross-site write', async () => {
      const reply = await call(
        server.url,
        `/admin/queues/api/queues/push-entrances/${fx.failedJobId}/retry`,
        {
          method: 'PUT',
          headers: { origin: 'http://evil.example' },
        },
      );
      expect(reply.status).toBe(403);
      expect(await fx.queues.push.entrances.getJobState(fx.failedJobId)).toBe('failed');
    });
  });
});
