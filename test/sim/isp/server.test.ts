/**
 * The ISP simulator over real HTTP, as an integrator would meet it: tokens, the strict endpoints
 * and their messages, what it keeps and reports, and the fault switches of its admin API.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PHOTO_MAX_BYTES, PHOTO_PREFIX } from '../../../src/isp-spec/index.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../../src/sim/isp/index.js';
import { sendersByLotPrefix } from '../../helpers/expected.js';

const sims: Simulator[] = [];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'isp-sim-'));
});
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ clientSecret: 'sekret', ...options });
  sims.push(s);
  return s;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function call(
  s: Simulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(s.url + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers };
}

async function token(s: Simulator): Promise<string> {
  const answer = await call(s, 'POST', '/oauth/token', {
    grant_type: 'client_credentials',
    client_id: 'demo-client',
    client_secret: 'sekret',
  });
  expect(answer.status).toBe(200);
  return `Bearer ${answer.body.access_token}`;
}

async function push(
  s: Simulator,
  path: string,
  body: unknown,
  auth?: string,
  method = 'POST',
): Promise<Answer> {
  return call(s, method, path, body, { authorization: auth ?? (await token(s)) });
}

const entrance = (i = 1) => ({
  park_code: 'ATXL/1',
  plate_number: `鲁A${String(i).padStart(5, '0')}`,
  enter_time: 1_700_000_000 + i,
  car_type: '2',
  car_logo: '大众',
  enter_pic: `${PHOTO_PREFIX}/9j/4AAQSkZJRgABAQ`,
});
const departure = {
  park_code: 'ATXL/1',
  plate_number: '鲁A00001',
  depart_time: 1_700_003_600,
  car_type: '2',
  car_logo: '大众',
  depart_pic: '',
  use_time: 60,
  payable_fee: 5,
  paid_fee: 5,
  pay_time: 1_700_003_500,
  pay_type: '4',
};
const park = { park_code: 'ATXL/1', longitude: 117.1, latitude: 36.6, coordinate_system: 'GCJ02' };
const spotNum = { park_code: 'ATXL/1', total_spots_num: 10, remain_spots_num: 4, used_spots_num: 6 };

describe('tokens', () => {
  it('issues expiring tokens with expires_in as a string', async () => {
    const s = await sim({ faults: { tokenTtlSeconds: 120 } });
    const answer = await call(s, 'POST', '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: 'demo-client',
      client_secret: 'sekret',
    });
    expect(answer.body).toMatchObject({ token_type: 'bearer', expires_in: '120', scope: 'all' });
    expect(String(answer.body.access_token).split('.')).toHaveLength(3);
    expect(s.state.tokens.issued).toBe(1);
  });

  it('takes a form body and HTTP Basic; refuses bad credentials and grants', async () => {
    const s = await sim();
    const form = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${s.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    const basic = `Basic ${Buffer.from('demo-client:sekret').toString('base64')}`;
    expect((await form('grant_type=client_credentials', { authorization: basic })).status).toBe(200);
    expect(
      (await form('grant_type=client_credentials&client_id=demo-client&client_secret=sekret')).status,
    ).toBe(200);
    const wrong = await form('grant_type=client_credentials&client_id=demo-client&client_secret=nope');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client', code: 401 });
    expect((await form('grant_type=client_credentials&client_id=other&client_secret=sekret')).status).toBe(
      401,
    );
    expect((await form('grant_type=client_credentials')).status).toBe(401);
    expect((await form('grant_type=implicit&client_id=demo-client&client_secret=sekret')).status).toBe(400);
    expect((await form('client_id=demo-client&client_secret=sekret')).status).toBe(400);
    expect(s.state.stats().requests).toMatchObject({ tokensIssued: 2, tokensRefused: 5 });
    expect(JSON.stringify(s.state.tokenRequests)).not.toContain('sekret');
  });

  it('without a configured secret accepts any secret for the client id', async () => {
    const s = await startSimulator({ clientId: 'cid' });
    sims.push(s);
    const ok = await call(s, 'POST', '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: 'cid',
      client_secret: 'x',
    });
    expect(ok.status).toBe(200);
    const other = await call(s, 'POST', '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: 'x',
      client_secret: 'x',
    });
    expect(other.status).toBe(401);
  });

  it('refuses data without a valid bearer token: HTTP 401 and code 401', async () => {
    const s = await sim();
    for (const auth of [undefined, 'Bearer nonsense', 'Basic abc']) {
      const answer = await call(
        s,
        'POST',
        '/park/entrance',
        [entrance()],
        auth ? { authorization: auth } : {},
      );
      expect(answer.status).toBe(401);
      expect(answer.body.code).toBe(401);
    }
    const auth = await token(s);
    expect((await push(s, '/park/entrance', [entrance()], auth)).body.code).toBe(0);
    s.expireTokens();
    const expired = await push(s, '/park/entrance', [entrance(2)], auth);
    expect(expired).toMatchObject({
      status: 401,
      body: { code: 401, msg: expect.stringContaining('expired') },
    });
    expect(s.state.store.count('entrance')).toBe(1);
    expect(s.state.counters.unauthorized).toBe(4);
  });
});

describe('several clients', () => {
  const clients = [
    { clientId: 'source-b', clientSecret: 'b-secret' },
    { clientId: 'source-c', clientSecret: 'c-secret' },
  ];

  async function tokenOf(s: Simulator, clientId: string, clientSecret: string): Promise<Answer> {
    return call(s, 'POST', '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
    });
  }

  it('accepts each client with its own secret only, and refuses unknown ones', async () => {
    const s = await sim({ clients });
    expect((await tokenOf(s, 'demo-client', 'sekret')).status).toBe(200);
    expect((await tokenOf(s, 'source-b', 'b-secret')).status).toBe(200);
    const basic = `Basic ${Buffer.from('source-c:c-secret').toString('base64')}`;
    const viaBasic = await fetch(`${s.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
      body: 'grant_type=client_credentials',
    });
    expect(viaBasic.status).toBe(200);
    // Another client's secret, the default's secret, no secret, an id nobody was given.
    for (const [id, secret] of [
      ['source-b', 'c-secret'],
      ['source-b', 'sekret'],
      ['source-c', ''],
      ['source-d', 'b-secret'],
    ] as const) {
      const refused = await tokenOf(s, id, secret);
      expect(refused.status, `${id} with ${secret || 'no secret'}`).toBe(401);
      expect(refused.body).toMatchObject({ error: 'invalid_client', code: 401 });
    }
    expect(s.state.stats().requests).toMatchObject({ tokensIssued: 3, tokensRefused: 4 });
    expect(s.state.tokenRequests.map((r) => [r.clientId, r.result])).toEqual([
      ['demo-client', 'issued'],
      ['source-b', 'issued'],
      ['source-c', 'issued'],
      ['source-b', 'refused'],
      ['source-b', 'refused'],
      ['source-c', 'refused'],
      ['source-d', 'refused'],
    ]);
    expect(JSON.stringify(s.state.tokenRequests)).not.toMatch(/b-secret|c-secret|sekret/);
  });

  it('records with every receipt the client whose token sent it', async () => {
    const jsonlFile = join(dir, 'clients.jsonl');
    const s = await sim({ clients, jsonlFile });
    const bearer = async (id: string, secret: string) =>
      `Bearer ${(await tokenOf(s, id, secret)).body.access_token}`;
    const asB = await bearer('source-b', 'b-secret');
    const asC = await bearer('source-c', 'c-secret');
    expect((await push(s, '/park/entrance', [entrance(1), entrance(2)], asB)).body.code).toBe(0);
    expect((await push(s, '/park/entrance', [entrance(3)], asC)).body.code).toBe(0);
    expect((await push(s, '/park/entrance', [entrance(4)])).body.code).toBe(0);
    expect((await push(s, '/park/spot', { park_code: 'ATXL/9' }, asC, 'DELETE')).body.code).toBe(0);

    const received = (await call(s, 'GET', '/_sim/received?kind=entrance')).body.records as {
      key: string;
      clientId: string;
    }[];
    expect(received.map((r) => [r.key.split('|')[1], r.clientId])).toEqual([
      ['鲁A00001', 'source-b'],
      ['鲁A00002', 'source-b'],
      ['鲁A00003', 'source-c'],
      ['鲁A00004', 'demo-client'],
    ]);
    expect(s.state.received('park-deletion').map((r) => r.clientId)).toEqual(['source-c']);
    const lines = readFileSync(jsonlFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { clientId: string });
    expect(lines.map((l) => l.clientId)).toEqual([
      'source-b',
      'source-b',
      'source-c',
      'demo-client',
      'source-c',
    ]);

    // Forgetting an event keeps the others' senders in step.
    expect(s.state.store.forget('entrance', [received[1]!.key])).toBe(1);
    expect(s.state.received('entrance').map((r) => r.clientId)).toEqual([
      'source-b',
      'source-c',
      'demo-client',
    ]);
  });

  it('tells, per lot prefix, which clients delivered (the multi-source tests’ check)', async () => {
    const s = await sim({ clients });
    const bearer = async (id: string, secret: string) =>
      `Bearer ${(await tokenOf(s, id, secret)).body.access_token}`;
    const asB = await bearer('source-b', 'b-secret');
    const asC = await bearer('source-c', 'c-secret');
    const at = (code: string, i: number) => ({ ...entrance(i), park_code: code });
    await push(s, '/park/entrance', [at('BTXL/1', 1), at('BTXL/2', 2)], asB);
    await push(s, '/park/entrance', [at('CTXL/1', 3)], asC);
    await push(s, '/park/entrance', [at('CTXL/2', 4)], asB);
    await push(s, '/park/spot', { park_code: 'BTXL/9' }, asC, 'DELETE');
    expect(sendersByLotPrefix(s, 'entrance')).toEqual(
      new Map([
        ['BTXL', new Set(['source-b'])],
        ['CTXL', new Set(['source-c', 'source-b'])],
      ]),
    );
    expect(sendersByLotPrefix(s, 'park-deletion')).toEqual(new Map([['BTXL', new Set(['source-c'])]]));
    expect(sendersByLotPrefix(s, 'departure')).toEqual(new Map());
  });

  it('a second client’s token expires and is refused like the default one’s', async () => {
    const s = await sim({ clients });
    const asB = `Bearer ${(await tokenOf(s, 'source-b', 'b-secret')).body.access_token}`;
    s.expireTokens();
    const expired = await push(s, '/park/entrance', [entrance(1)], asB);
    expect(expired).toMatchObject({
      status: 401,
      body: { code: 401, msg: expect.stringContaining('expired') },
    });
    expect(s.state.store.count('entrance')).toBe(0);
  });

  it('password grant: each client’s own user, and with client authentication only that client’s', async () => {
    const s = await sim({
      clients: [
        ...clients,
        { clientId: 'source-e', clientSecret: 'e-secret', username: 'eve', password: 'pw' },
      ],
    });
    const grant = (fields: Record<string, string>) =>
      call(s, 'POST', '/oauth/token', { grant_type: 'password', ...fields });
    const asEve = await grant({ username: 'eve', password: 'pw' });
    expect(asEve.status).toBe(200);
    // The user defaults to the client id and the password to its secret.
    expect((await grant({ username: 'source-b', password: 'b-secret' })).status).toBe(200);
    expect((await grant({ username: 'source-b', password: 'c-secret' })).body).toMatchObject({
      error: 'invalid_grant',
    });
    expect((await grant({ username: 'eve', password: 'e-secret' })).status).toBe(400);
    // Client source-b authenticated, but the user is source-e's.
    const crossed = await grant({
      client_id: 'source-b',
      client_secret: 'b-secret',
      username: 'eve',
      password: 'pw',
    });
    expect(crossed.body).toMatchObject({ error: 'invalid_grant' });
    // The token belongs to the client whose user it is.
    const auth = `Bearer ${asEve.body.access_token}`;
    expect((await push(s, '/park/entrance', [entrance(1)], auth)).body.code).toBe(0);
    expect(s.state.received('entrance').map((r) => r.clientId)).toEqual(['source-e']);
  });

  it('refuses to start with a client id given twice', async () => {
    await expect(
      startSimulator({
        clientSecret: 'sekret',
        clients: [{ clientId: 'demo-client', clientSecret: 'other' }],
      }),
    ).rejects.toThrow(/client id "demo-client" is given twice/);
    await expect(
      startSimulator({ clients: [{ clientId: 'b' }, { clientId: 'b', clientSecret: 'x' }] }),
    ).rejects.toThrow(/given twice/);
  });
});

describe('endpoints', () => {
  it('accepts every endpoint of the spec and keeps what it accepted', async () => {
    const s = await sim();
    const auth = await token(s);
    const before = Date.now();
    expect((await push(s, '/park/spot', [park], auth)).body).toEqual({ code: 0, msg: 'success' });
    expect((await push(s, '/park/spot', { park_code: 'ATXL/1,ATXL/2' }, auth, 'DELETE')).body.code).toBe(0);
    expect((await push(s, '/park/spot-num', [spotNum], auth)).body.code).toBe(0);
    expect((await push(s, '/park/entrance', [entrance(1), entrance(2)], auth)).body.code).toBe(0);
    expect((await push(s, '/park/departure', [departure], auth)).body.code).toBe(0);
    const stats = (await call(s, 'GET', '/_sim/stats')).body;
    expect(stats.received).toEqual({ park: 1, 'park-deletion': 2, 'spot-num': 1, entrance: 2, departure: 1 });

    const received = (await call(s, 'GET', '/_sim/received?kind=entrance')).body;
    expect(received).toMatchObject({ kind: 'entrance', total: 2, offset: 0 });
    const records = received.records as { key: string; receivedAt: number; record: unknown }[];
    expect(records.map((r) => r.key)).toEqual(['ATXL/1|鲁A00001|1700000001', 'ATXL/1|鲁A00002|1700000002']);
    expect(records[0]!.record).toEqual(entrance(1));
    expect(records[0]!.receivedAt).toBeGreaterThanOrEqual(before);
    expect(records[0]!.receivedAt).toBeLessThanOrEqual(Date.now());
    const page = (await call(s, 'GET', '/_sim/received?kind=entrance&offset=1&limit=1')).body;
    expect((page.records as { key: string }[]).map((r) => r.key)).toEqual(['ATXL/1|鲁A00002|1700000002']);
    const deletions = (await call(s, 'GET', '/_sim/received?kind=park-deletion')).body.records as {
      key: string;
    }[];
    expect(deletions.map((r) => r.key)).toEqual(['ATXL/1', 'ATXL/2']);
    expect((await call(s, 'GET', '/_sim/received?kind=entrances')).status).toBe(400);
  });

  it.each([
    [
      'wrong type',
      '/park/entrance',
      { enter_time: '1700000000' },
      '[1].enter_time: must be a number, got string',
    ],
    ['missing required field', '/park/entrance', { car_type: undefined }, '[1].car_type: is required'],
    [
      'photo over 512 KB',
      '/park/entrance',
      { enter_pic: PHOTO_PREFIX + 'A'.repeat(PHOTO_MAX_BYTES) },
      '[1].enter_pic: is 524310 bytes, over the limit of 524288',
    ],
    ['unknown code', '/park/entrance', { car_type: '7' }, '[1].car_type: is not a car type code'],
    [
      'timestamp in ms',
      '/park/entrance',
      { enter_time: 1_700_000_000_000 },
      '[1].enter_time: looks like milliseconds',
    ],
    ['unknown key', '/park/entrance', { 'park_code ': 'ATXL/1' }, '[1]: unknown key "park_code "'],
    [
      'coordinates outside China',
      '/park/spot',
      { longitude: 34.54563, latitude: 54.45563 },
      '[1].longitude: is outside China',
    ],
    ['unknown pay type', '/park/departure', { pay_type: '9' }, '[1].pay_type: is not a pay type code'],
    [
      'counts that do not add up',
      '/park/spot-num',
      { used_spots_num: 7 },
      '[1].total_spots_num: remain_spots_num + used_spots_num',
    ],
  ])(
    'answers code 1 for %s, naming the record and field, and stores nothing',
    async (_name, path, change, expected) => {
      const s = await sim();
      const good =
        path === '/park/entrance'
          ? entrance(1)
          : path === '/park/spot'
            ? park
            : path === '/park/departure'
              ? departure
              : spotNum;
      const bad = { ...good, ...change };
      const answer = await push(s, path, [good, bad]);
      expect(answer.status).toBe(200);
      expect(answer.body.code).toBe(1);
      expect(answer.body.msg).toContain(expected);
      const stats = s.state.stats();
      expect(Object.values(stats.received).every((n) => n === 0)).toBe(true);
      expect(stats.requests.rejected).toBe(1);
    },
  );

  it('refuses bodies of the wrong shape, bad JSON and unknown paths in ISP’s answer shape', async () => {
    const s = await sim();
    const auth = await token(s);
    expect((await push(s, '/park/entrance', entrance(), auth)).body).toMatchObject({
      code: 1,
      msg: expect.stringContaining('JSON array'),
    });
    expect((await push(s, '/park/entrance', [], auth)).body.code).toBe(1);
    expect((await push(s, '/park/spot', { park_code: 'A,,B' }, auth, 'DELETE')).body).toMatchObject({
      code: 1,
      msg: expect.stringContaining('park_code'),
    });
    const badJson = await call(s, 'POST', '/park/entrance', '[{"park_code":', { authorization: auth });
    expect(badJson).toMatchObject({ status: 400, body: { code: 1 } });
    const typo = await call(s, 'POST', '/park/%20departure', [departure], { authorization: auth });
    expect(typo).toMatchObject({ status: 404, body: { code: 1 } });
  });

  it('takes 100 photos of 512 KB in one request', async () => {
    const s = await sim({ storage: 'light' });
    const pic = PHOTO_PREFIX + 'A'.repeat(PHOTO_MAX_BYTES - PHOTO_PREFIX.length);
    const body = Array.from({ length: 100 }, (_, i) => ({ ...entrance(i), enter_pic: pic }));
    const answer = await push(s, '/park/entrance', body);
    expect(answer.body.code).toBe(0);
    expect(s.state.store.count('entrance')).toBe(100);
  });

  it('counts repeated events as duplicates, and repeated lots and counts as state refreshes', async () => {
    const s = await sim();
    const auth = await token(s);
    await push(s, '/park/entrance', [entrance(1), entrance(2)], auth);
    await push(s, '/park/entrance', [entrance(2)], auth);
    await push(s, '/park/departure', [departure, departure], auth);
    // A count, a change, the change again (a refresh), then the first count again (a change back).
    const changed = { ...spotNum, remain_spots_num: 3, used_spots_num: 7 };
    await push(s, '/park/spot-num', [spotNum, changed, changed, spotNum], auth);
    // The lot, the same lot again (a full sync), then renamed (an update, not a refresh).
    await push(s, '/park/spot', [park], auth);
    await push(s, '/park/spot', [park], auth);
    await push(s, '/park/spot', [{ ...park, park_name: '新名字' }], auth);
    await push(s, '/park/spot', { park_code: 'ATXL/1' }, auth, 'DELETE');
    await push(s, '/park/spot', { park_code: 'ATXL/1' }, auth, 'DELETE');
    const stats = (await call(s, 'GET', '/_sim/stats')).body;
    expect(stats.received).toMatchObject({ entrance: 3, departure: 2, 'spot-num': 4, park: 3 });
    expect(stats.duplicates).toEqual({ entrance: 1, departure: 1 });
    expect(stats.refreshes).toEqual({ park: 1, 'park-deletion': 1, 'spot-num': 1 });
  });

  it('light storage keeps keys, receipt times and senders only; JSONL keeps whole records', async () => {
    const jsonlFile = join(dir, 'received.jsonl');
    const s = await sim({ storage: 'light', jsonlFile });
    await push(s, '/park/entrance', [entrance(1), entrance(2)]);
    const records = (await call(s, 'GET', '/_sim/received?kind=entrance')).body.records as Record<
      string,
      unknown
    >[];
    expect(records).toHaveLength(2);
    expect(Object.keys(records[0]!).sort()).toEqual(['clientId', 'key', 'receivedAt']);
    expect((await call(s, 'GET', '/_sim/stats')).body.storage).toBe('light');
    const lines = readFileSync(jsonlFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({
      kind: 'entrance',
      record: entrance(2),
      receivedAt: expect.any(Number),
      clientId: 'demo-client',
    });
  });
});

describe('faults and the admin API', () => {
  it('PUT replaces, PATCH changes, GET shows, invalid switches are refused', async () => {
    const s = await sim({ faults: { latencyMs: 5 } });
    const put = await call(s, 'PUT', '/_sim/faults', { http500Rate: 1 });
    expect(put.body).toMatchObject({ http500Rate: 1, latencyMs: 5 });
    const patch = await call(s, 'PATCH', '/_sim/faults', { http429Rate: 0.5 });
    expect(patch.body).toMatchObject({ http500Rate: 1, http429Rate: 0.5 });
    expect((await call(s, 'PUT', '/_sim/faults', {})).body).toMatchObject({
      http500Rate: 0,
      http429Rate: 0,
      latencyMs: 5,
    });
    expect((await call(s, 'GET', '/_sim/faults')).body).toMatchObject({ http500Rate: 0 });
    const bad = await call(s, 'PUT', '/_sim/faults', { http500Rate: 2, nonsense: true });
    expect(bad.status).toBe(400);
    expect(String(bad.body.error)).toMatch(/http500Rate/);
  });

  it('HTTP 500 and 429 with Retry-After', async () => {
    const s = await sim();
    const auth = await token(s);
    await call(s, 'PUT', '/_sim/faults', { http500Rate: 1 });
    expect(await push(s, '/park/entrance', [entrance()], auth)).toMatchObject({
      status: 500,
      body: { code: 500 },
    });
    await call(s, 'PUT', '/_sim/faults', { http429Rate: 1, retryAfterSeconds: 9 });
    const limited = await push(s, '/park/entrance', [entrance()], auth);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('9');
    expect(s.state.store.count('entrance')).toBe(0);
    expect(s.state.stats().requests).toMatchObject({ http500: 1, http429: 1 });
  });

  it('code 1 for records matching a rule, the batch stored not at all', async () => {
    const s = await sim({
      faults: { rejectRules: [{ kind: 'entrance', field: 'plate_number', equals: '鲁A00002' }] },
    });
    const answer = await push(s, '/park/entrance', [entrance(1), entrance(2), entrance(3)]);
    expect(answer.body).toEqual({
      code: 1,
      msg: '[1].plate_number "鲁A00002": rejected by a simulator rule',
    });
    expect(s.state.store.count('entrance')).toBe(0);
    await call(s, 'PUT', '/_sim/faults', {
      rejectRules: [{ kind: 'park-deletion', field: 'park_code', equals: 'B', message: 'park in use' }],
    });
    expect((await push(s, '/park/spot', { park_code: 'A,B' }, undefined, 'DELETE')).body).toEqual({
      code: 1,
      msg: 'park in use',
    });
  });

  it('drops connections without an answer, before or after storing', async () => {
    const s = await sim();
    const auth = await token(s);
    await call(s, 'PUT', '/_sim/faults', { dropRate: 1 });
    await expect(push(s, '/park/entrance', [entrance(1)], auth)).rejects.toThrow();
    expect(s.state.store.count('entrance')).toBe(0);
    await call(s, 'PUT', '/_sim/faults', { dropAfterAcceptRate: 1 });
    await expect(push(s, '/park/entrance', [entrance(2)], auth)).rejects.toThrow();
    expect(s.state.store.count('entrance')).toBe(1);
    expect(s.state.stats().requests).toMatchObject({ dropped: 1, droppedAfterAccept: 1 });
  });

  it('a down window resets every ISP endpoint but not the admin API', async () => {
    const s = await sim();
    await call(s, 'PUT', '/_sim/faults', { downForMs: 60_000 });
    await expect(token(s)).rejects.toThrow();
    await expect(call(s, 'POST', '/park/entrance', [entrance()])).rejects.toThrow();
    expect((await call(s, 'GET', '/_sim/stats')).body.requests).toMatchObject({ down: 2 });
    await call(s, 'PATCH', '/_sim/faults', { downForMs: 0 });
    expect((await push(s, '/park/entrance', [entrance()])).body.code).toBe(0);
  });

  it('answers success with code 200 and message when asked', async () => {
    const s = await sim({ faults: { successCode: 200, messageKey: 'message' } });
    expect((await push(s, '/park/spot-num', [spotNum])).body).toEqual({ code: 200, message: 'success' });
  });

  it('reset forgets records and counters and restores the start switches; tokens stay valid', async () => {
    const s = await sim();
    const auth = await token(s);
    await push(s, '/park/entrance', [entrance()], auth);
    await call(s, 'PUT', '/_sim/faults', { http500Rate: 1 });
    await call(s, 'POST', '/_sim/reset');
    const stats = (await call(s, 'GET', '/_sim/stats')).body as {
      received: Record<string, number>;
      requests: Record<string, number>;
      faults: Record<string, number>;
    };
    expect(stats.received.entrance).toBe(0);
    expect(stats.requests.accepted).toBe(0);
    expect(stats.faults.http500Rate).toBe(0);
    expect((await push(s, '/park/entrance', [entrance()], auth)).body.code).toBe(0);
    await call(s, 'POST', '/_sim/tokens/expire');
    expect((await push(s, '/park/entrance', [entrance()], auth)).status).toBe(401);
    expect((await call(s, 'GET', '/_sim/tokens')).body).toMatchObject({ issued: 0 });
  });
});
