/**
 * The simulator's strictness switches over real HTTP: data only for registered
 * lots, photos that must decode as JPEGs, a body limit answered 413, and 401 in the body; each off
 * by default and switchable at start and at run time. Where the pipeline depends on how a refusal
 * looks, the real ISP client is pointed at the simulator to show how it classifies it.
 */
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { IspClient } from '../../../src/isp/index.js';
import { type Entrance, PHOTO_PREFIX } from '../../../src/isp-spec/index.js';
import { makeCameraJpeg } from '../../../src/sim/camera-jpeg.js';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../../src/sim/isp/index.js';
import { simLot } from '../../helpers/sim-lots.js';

const SECRET = 'strict-secret';
const sims: Simulator[] = [];
const clients: IspClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

async function sim(options: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ clientSecret: SECRET, ...options });
  sims.push(s);
  return s;
}

function client(s: Simulator, batch: { maxItems?: number; maxBytes?: number } = {}): IspClient {
  const isp = loadConfig({
    env: {},
    overrides: {
      isp: {
        baseUrl: s.url,
        timeoutMs: 5_000,
        batch,
        auth: { clientId: 'demo-client', clientSecret: SECRET },
      },
    },
  }).isp;
  const c = new IspClient({ isp, source: 'strict-test' });
  clients.push(c);
  return c;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(
  s: Simulator,
  method: string,
  path: string,
  body?: unknown,
  auth?: string,
): Promise<Answer> {
  const headers: Record<string, string> = auth ? { authorization: auth } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(s.url + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

async function token(s: Simulator): Promise<string> {
  const answer = await call(s, 'POST', '/oauth/token', {
    grant_type: 'client_credentials',
    client_id: 'demo-client',
    client_secret: SECRET,
  });
  expect(answer.status).toBe(200);
  return `Bearer ${answer.body.access_token}`;
}

const park = (code: string) => ({ park_code: code, park_name: code, coordinate_system: 'GCJ02' });
const spotNum = (code: string, used = 6) => ({
  park_code: code,
  total_spots_num: 10,
  remain_spots_num: 10 - used,
  used_spots_num: used,
});
const entrance = (code: string, i = 1, enter_pic = ''): Entrance => ({
  park_code: code,
  plate_number: `鲁A${String(i).padStart(5, '0')}`,
  enter_time: 1_700_000_000 + i,
  car_type: '2',
  car_logo: '大众',
  enter_pic,
});
const departure = (code: string, i = 1, depart_pic = '') => ({
  park_code: code,
  plate_number: `鲁A${String(i).padStart(5, '0')}`,
  depart_time: 1_700_003_600 + i,
  car_type: '2',
  car_logo: '大众',
  depart_pic,
  use_time: 60,
  payable_fee: 5,
  paid_fee: 5,
  pay_time: 1_700_003_500,
  pay_type: '4',
});

describe('known lots', () => {
  it('refuses counts, entrances and departures of a lot never registered, naming it; stores nothing', async () => {
    const s = await sim({ strict: { knownLots: true } });
    const auth = await token(s);
    expect((await call(s, 'POST', '/park/spot', [park('A')], auth)).body.code).toBe(0);
    for (const [path, body] of [
      ['/park/spot-num', [spotNum('A'), spotNum('X')]],
      ['/park/entrance', [entrance('A', 1), entrance('X', 2), entrance('X', 3), entrance('Y', 4)]],
      ['/park/departure', [departure('X')]],
    ] as const) {
      const answer = await call(s, 'POST', path, body, auth);
      expect(answer.status).toBe(200);
      expect(answer.body.code).toBe(1);
      expect(answer.body.msg).toMatch(/park_code "X": no such lot \(never added by POST \/park\/spot\)/);
      expect(answer.body.msg).not.toMatch(/park_code "A"/);
    }
    const refused = await call(
      s,
      'POST',
      '/park/entrance',
      [entrance('A', 1), entrance('X', 2), entrance('Y', 3)],
      auth,
    );
    expect(refused.body.msg).toBe(
      '[1] park_code "X": no such lot (never added by POST /park/spot); [2] park_code "Y": no such lot (never added by POST /park/spot)',
    );
    const stats = s.state.stats();
    expect(stats.received).toMatchObject({ 'spot-num': 0, entrance: 0, departure: 0 });
    expect(stats.requests).toMatchObject({ rejected: 4, rejectedUnknownLot: 4 });
    // The lot that was fine received nothing either (the batch is refused whole), and the refused
    // records are counted on the lots they named.
    expect(await simLot(s.url, 'A')).toMatchObject({ status: 'registered', accepted: { entrance: 0 } });
    expect(await simLot(s.url, 'X')).toMatchObject({
      status: 'unregistered',
      refused: { 'spot-num': 1, entrance: 3, departure: 1 },
    });
  });

  it('refuses data of a deleted lot, and takes it again once the lot is registered again', async () => {
    const s = await sim({ strict: { knownLots: true } });
    const auth = await token(s);
    await call(s, 'POST', '/park/spot', [park('A')], auth);
    expect((await call(s, 'POST', '/park/entrance', [entrance('A', 1)], auth)).body.code).toBe(0);
    const deletedAround = Date.now();
    expect((await call(s, 'DELETE', '/park/spot', { park_code: 'A' }, auth)).body.code).toBe(0);
    const refused = await call(s, 'POST', '/park/entrance', [entrance('A', 2)], auth);
    expect(refused.body.code).toBe(1);
    expect(refused.body.msg).toMatch(
      /^\[0\] park_code "A": lot deleted \(DELETE \/park\/spot at \d{4}-\d\d-\d\dT/,
    );
    expect((await call(s, 'POST', '/park/spot-num', [spotNum('A')], auth)).body.code).toBe(1);
    const deleted = await simLot(s.url, 'A');
    expect(deleted).toMatchObject({ status: 'deleted', accepted: { entrance: 1 }, refused: { entrance: 1 } });
    expect(deleted!.deletedAt).toBeGreaterThanOrEqual(deletedAround);

    expect((await call(s, 'POST', '/park/spot', [park('A')], auth)).body.code).toBe(0);
    expect((await call(s, 'POST', '/park/entrance', [entrance('A', 2)], auth)).body.code).toBe(0);
    expect((await call(s, 'POST', '/park/spot-num', [spotNum('A')], auth)).body.code).toBe(0);
    expect(await simLot(s.url, 'A')).toMatchObject({
      status: 'registered',
      deletedAt: null,
      accepted: { entrance: 2, 'spot-num': 1 },
    });
    expect(s.state.store.count('entrance')).toBe(2);
  });

  it('refuses a whole DELETE naming an unknown or already deleted code, and deletes nothing of it', async () => {
    const s = await sim({ strict: { knownLots: true } });
    const auth = await token(s);
    await call(s, 'POST', '/park/spot', [park('A'), park('B'), park('C')], auth);
    await call(s, 'DELETE', '/park/spot', { park_code: 'C' }, auth);
    const answer = await call(s, 'DELETE', '/park/spot', { park_code: 'A,X,B,C' }, auth);
    expect(answer.body).toEqual({
      code: 1,
      msg: expect.stringMatching(/^park_code "X": no such lot .*; park_code "C": lot deleted \(DELETE/),
    });
    expect((await simLot(s.url, 'A'))?.status).toBe('registered');
    expect((await simLot(s.url, 'B'))?.status).toBe('registered');
    expect(await simLot(s.url, 'X')).toBeUndefined();
    expect((await call(s, 'DELETE', '/park/spot', { park_code: 'A,B' }, auth)).body.code).toBe(0);
    expect(s.state.stats().lots).toEqual({ registered: 0, deleted: 3, unregistered: 0 });
  });

  it('is off by default: data of any lot is taken, and the lot shows as unregistered', async () => {
    const s = await sim();
    expect((await call(s, 'POST', '/park/entrance', [entrance('X')], await token(s))).body.code).toBe(0);
    expect(await simLot(s.url, 'X')).toMatchObject({ status: 'unregistered', accepted: { entrance: 1 } });
  });

  it('reaches the ISP client as a rejection with the message, which the pipeline isolates by splitting', async () => {
    const s = await sim({ strict: { knownLots: true } });
    const c = client(s);
    expect((await c.upsertParks([park('A') as never])).ok).toBe(true);
    const result = await c.pushEntrances([entrance('A', 1), entrance('X', 2)]);
    expect(result).toMatchObject({ ok: false, delivered: 0 });
    expect(result.parts[0]!.outcome).toEqual({
      kind: 'rejected',
      status: 200,
      message: '[1] park_code "X": no such lot (never added by POST /park/spot)',
    });
    // Split as the pipeline's bisection does: the half with the known lot alone is delivered.
    expect((await c.pushEntrances([entrance('A', 1)])).ok).toBe(true);
    const deletion = await c.deleteParks(['A', 'X']);
    expect(deletion.parts[0]!.outcome).toMatchObject({
      kind: 'rejected',
      message: expect.stringContaining('"X"'),
    });
  });
});

describe('decoded photos', () => {
  const jpeg = async () =>
    PHOTO_PREFIX + (await makeCameraJpeg({ width: 320, height: 180, quality: 80 })).toString('base64');

  it('takes a real JPEG and an empty photo; refuses truncated, non-JPEG and broken Base64 photos, saying why', async () => {
    const s = await sim({ strict: { decodePhotos: true } });
    const auth = await token(s);
    const good = await jpeg();
    expect(
      (await call(s, 'POST', '/park/entrance', [entrance('A', 1, good), entrance('A', 2, '')], auth)).body,
    ).toEqual({
      code: 0,
      msg: 'success',
    });
    expect((await call(s, 'POST', '/park/departure', [departure('A', 1, good)], auth)).body.code).toBe(0);

    const bytes = Buffer.from(good.slice(PHOTO_PREFIX.length), 'base64');
    const truncated = PHOTO_PREFIX + bytes.subarray(0, Math.floor(bytes.length * 0.7)).toString('base64');
    const png = (
      await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } })
        .png()
        .toBuffer()
    ).toString('base64');
    const answers = [
      [
        '/park/entrance',
        [entrance('A', 3, good), entrance('A', 4, truncated)],
        /^\[1\]\.enter_pic: does not decode as a JPEG \(\d+ bytes\): .+/,
      ],
      [
        '/park/entrance',
        [entrance('A', 5, png)],
        /^\[0\]\.enter_pic: is not a JPEG: its bytes start 89504e47/,
      ],
      [
        '/park/entrance',
        [entrance('A', 6, `${PHOTO_PREFIX}/9j/4AA`)],
        /^\[0\]\.enter_pic: is not valid Base64 \(length not a multiple of 4\)/,
      ],
      // What the other tests send as a "photo": a JPEG header and nothing else.
      [
        '/park/departure',
        [departure('A', 2, `${PHOTO_PREFIX}/9j/4AAQSkZJRgABAQ==`)],
        /^\[0\]\.depart_pic: does not decode as a JPEG/,
      ],
    ] as const;
    for (const [path, body, message] of answers) {
      const answer = await call(s, 'POST', path, body, auth);
      expect(answer.status).toBe(200);
      expect(answer.body.code).toBe(1);
      expect(answer.body.msg).toMatch(message);
    }
    expect(s.state.stats().received).toMatchObject({ entrance: 2, departure: 1 });
    expect(s.state.stats().requests).toMatchObject({ rejectedPhoto: 4 });
  });

  it('is off by default and switchable at run time', async () => {
    const s = await sim();
    const auth = await token(s);
    const header = `${PHOTO_PREFIX}/9j/4AAQSkZJRgABAQ==`;
    expect((await call(s, 'POST', '/park/entrance', [entrance('A', 1, header)], auth)).body.code).toBe(0);
    expect((await call(s, 'PATCH', '/_sim/strict', { decodePhotos: true })).body).toMatchObject({
      decodePhotos: true,
    });
    expect((await call(s, 'POST', '/park/entrance', [entrance('A', 2, header)], auth)).body.code).toBe(1);
  });
});

describe('body limit', () => {
  it('answers HTTP 413 above the limit, takes bodies at or below it, and counts both ways in', async () => {
    const s = await sim({ strict: { maxBodyBytes: 4096 } });
    const auth = await token(s);
    const body = (n: number) => Array.from({ length: n }, (_, i) => entrance('A', i));
    const size = (n: number) => Buffer.byteLength(JSON.stringify(body(n)));
    const fits = [...Array(200).keys()].filter((n) => n > 0 && size(n) <= 4096).at(-1)!;
    expect((await call(s, 'POST', '/park/entrance', body(fits), auth)).status).toBe(200);
    const over = await call(s, 'POST', '/park/entrance', body(fits + 1), auth);
    expect(over).toEqual({
      status: 413,
      body: { code: 1, msg: `request body is ${size(fits + 1)} bytes, over this ISP's limit of 4096 bytes` },
    });

    // Without a declared length (chunked), the body is cut off where it passes the limit.
    const text = JSON.stringify(body(fits + 1));
    const chunked = await fetch(`${s.url}/park/entrance`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(text.slice(0, 3000)));
          controller.enqueue(new TextEncoder().encode(text.slice(3000)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(s.state.store.count('entrance')).toBe(fits);
    expect(s.state.stats().requests).toMatchObject({ tooLarge: 2, rejected: 2 });
  });

  it('reaches the ISP client as a rejection with status 413, so the pipeline splits the batch', async () => {
    const s = await sim({ strict: { maxBodyBytes: 2048 } });
    const c = client(s);
    const result = await c.pushEntrances(Array.from({ length: 20 }, (_, i) => entrance('A', i)));
    expect(result.parts[0]!.outcome).toMatchObject({ kind: 'rejected', status: 413 });
    expect((await c.pushEntrances(Array.from({ length: 5 }, (_, i) => entrance('A', i)))).ok).toBe(true);
  });

  it('is off by default and switchable at run time', async () => {
    const s = await sim();
    const auth = await token(s);
    const body = Array.from({ length: 50 }, (_, i) => entrance('A', i));
    expect((await call(s, 'POST', '/park/entrance', body, auth)).status).toBe(200);
    await call(s, 'PATCH', '/_sim/strict', { maxBodyBytes: 1024 });
    expect((await call(s, 'POST', '/park/entrance', body, auth)).status).toBe(413);
    // The admin API is never limited.
    const rules = Array.from({ length: 100 }, () => ({ kind: 'park' }));
    expect(JSON.stringify({ rejectRules: rules }).length).toBeGreaterThan(1024);
    expect((await call(s, 'PUT', '/_sim/faults', { rejectRules: rules })).status).toBe(200);
  });
});

describe('401 in the body', () => {
  it('answers a bad or expired token with HTTP 200 and code 401', async () => {
    const s = await sim({ strict: { unauthorizedInBody: true } });
    expect(await call(s, 'POST', '/park/entrance', [entrance('A')])).toEqual({
      status: 200,
      body: { code: 401, msg: expect.stringContaining('not logged in') },
    });
    const auth = await token(s);
    s.expireTokens();
    expect(await call(s, 'POST', '/park/entrance', [entrance('A')], auth)).toMatchObject({
      status: 200,
      body: { code: 401, msg: expect.stringContaining('expired') },
    });
    expect(s.state.store.count('entrance')).toBe(0);
  });

  it('makes the ISP client fetch a new token and deliver, as an HTTP 401 does', async () => {
    const s = await sim({ strict: { unauthorizedInBody: true } });
    const c = client(s);
    expect((await c.pushEntrances([entrance('A', 1)])).ok).toBe(true);
    expect(s.state.tokens.issued).toBe(1);
    s.expireTokens();
    const result = await c.pushEntrances([entrance('A', 2)]);
    expect(result.parts.map((p) => p.outcome.kind)).toEqual(['delivered']);
    expect(s.state.tokens.issued).toBe(2);
    expect(s.state.stats().requests.unauthorized).toBe(1);
    expect(s.state.store.count('entrance')).toBe(2);
  });
});

describe('switches in the admin API', () => {
  it('GET shows, PUT replaces from the start switches, PATCH changes, bad values are refused, reset restores', async () => {
    const s = await sim({ strict: { knownLots: true } });
    expect((await call(s, 'GET', '/_sim/strict')).body).toEqual({
      knownLots: true,
      decodePhotos: false,
      maxBodyBytes: 0,
      unauthorizedInBody: false,
    });
    expect((await call(s, 'PUT', '/_sim/strict', { decodePhotos: true })).body).toMatchObject({
      knownLots: true,
      decodePhotos: true,
    });
    expect((await call(s, 'PATCH', '/_sim/strict', { knownLots: false })).body).toMatchObject({
      knownLots: false,
      decodePhotos: true,
    });
    const bad = await call(s, 'PATCH', '/_sim/strict', { maxBodyBytes: -1, strictest: true });
    expect(bad.status).toBe(400);
    expect(String(bad.body.error)).toMatch(/maxBodyBytes/);
    expect((await call(s, 'GET', '/_sim/stats')).body.strict).toMatchObject({
      knownLots: false,
      decodePhotos: true,
    });
    await call(s, 'POST', '/_sim/reset');
    expect((await call(s, 'GET', '/_sim/strict')).body).toMatchObject({
      knownLots: true,
      decodePhotos: false,
    });
  });
});
