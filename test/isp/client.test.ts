/**
 * The ISP client against the simulator over real loopback HTTP: tokens (fetch, refresh ahead, after
 * a 401, one shared refresh), each outcome class, batch splitting, DELETE with a body, and every
 * token request format.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config/index.js';
import { type BatchResult, IspClient, type IspClientOptions } from '../../src/isp/index.js';
import type { Entrance } from '../../src/isp-spec/index.js';
import { type Simulator, startSimulator } from '../../src/sim/isp/index.js';

const SECRET = 'sim-secret-Xy9!';
let sim: Simulator;
const clients: IspClient[] = [];

beforeAll(async () => {
  sim = await startSimulator({ clientId: 'test-client', clientSecret: SECRET });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.reset();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

type IspOverrides = Omit<Partial<Config['isp']>, 'auth' | 'batch'> & {
  auth?: Partial<Config['isp']['auth']>;
  batch?: Partial<Config['isp']['batch']>;
};

function ispConfig(overrides: IspOverrides = {}): Config['isp'] {
  const { auth, ...rest } = overrides;
  return loadConfig({
    env: {},
    overrides: {
      isp: {
        baseUrl: sim.url,
        timeoutMs: 5_000,
        ...rest,
        auth: { clientId: 'test-client', clientSecret: SECRET, ...auth },
      },
    },
  }).isp;
}

function client(overrides: IspOverrides = {}, extra: Partial<IspClientOptions> = {}): IspClient {
  const c = new IspClient({ isp: ispConfig(overrides), source: 'client-test', ...extra });
  clients.push(c);
  return c;
}

function entrance(i: number, extra: Partial<Entrance> = {}): Entrance {
  return {
    park_code: 'ATXL/1',
    plate_number: `鲁A${String(i).padStart(5, '0')}`,
    enter_time: 1_700_000_000 + i,
    car_type: '2',
    car_logo: '大众',
    enter_pic: 'data:image/jpg;base64,/9j/4AAQSkZJRgABAQ',
    ...extra,
  };
}

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function only(result: BatchResult) {
  expect(result.parts).toHaveLength(1);
  return result.parts[0]!.outcome;
}

describe('token', () => {
  it('fetches a token once and reuses it', async () => {
    const c = client();
    expect(c.tokenState().valid).toBe(false);
    expect((await c.pushEntrances([entrance(1)])).ok).toBe(true);
    expect((await c.pushEntrances([entrance(2)])).ok).toBe(true);
    expect(sim.state.tokens.issued).toBe(1);
    const state = c.tokenState();
    expect(state.valid).toBe(true);
    // expires_in came as the string "3600"
    expect(state.expiresAt! - Date.now()).toBeGreaterThan(3500_000);
  });

  it('refreshes ahead of expiry, before ISP would refuse the token', async () => {
    sim.setFaults({ tokenTtlSeconds: 100 });
    let offset = 0;
    const c = client({ auth: { refreshAheadSeconds: 10 } }, { now: () => Date.now() + offset });
    await c.pushEntrances([entrance(1)]);
    offset = 85_000; // 15 s left: not yet
    await c.pushEntrances([entrance(2)]);
    expect(sim.state.tokens.issued).toBe(1);
    offset = 91_000; // 9 s left: inside the 10 s margin
    expect((await c.pushEntrances([entrance(3)])).ok).toBe(true);
    expect(sim.state.tokens.issued).toBe(2);
    expect(sim.state.counters.unauthorized).toBe(0);
  });

  it('keeps using a still-valid token when the refresh ahead fails', async () => {
    sim.setFaults({ tokenTtlSeconds: 100 });
    let offset = 0;
    const c = client({ auth: { refreshAheadSeconds: 10 } }, { now: () => Date.now() + offset });
    await c.pushEntrances([entrance(1)]);
    sim.setFaults({ tokenTtlSeconds: 100, tokenHttp500Rate: 1 });
    offset = 91_000; // inside the margin, token still valid at ISP
    expect(only(await c.pushEntrances([entrance(2)])).kind).toBe('delivered');
    expect(sim.state.counters.http500).toBe(1);
    expect(sim.state.tokens.issued).toBe(1);
    offset = 101_000; // expired by the client's clock: no token to fall back on
    expect(only(await c.pushEntrances([entrance(3)]))).toMatchObject({ kind: 'retryable', status: 500 });
  });

  it('refreshes after a 401 (tokens expired at run time) and retries once', async () => {
    const c = client();
    await c.pushEntrances([entrance(1)]);
    sim.expireTokens();
    const result = await c.pushEntrances([entrance(2)]);
    expect(only(result)).toMatchObject({ kind: 'delivered' });
    expect(sim.state.counters.unauthorized).toBe(1);
    expect(sim.state.tokens.issued).toBe(2);
    expect(sim.state.received('entrance').map((e) => e.key)).toEqual([
      'ATXL/1|鲁A00001|1700000001',
      'ATXL/1|鲁A00002|1700000002',
    ]);
  });

  it('50 concurrent requests share one token fetch, and one refresh after a 401', async () => {
    const c = client();
    const first = await Promise.all(Array.from({ length: 50 }, (_, i) => c.pushEntrances([entrance(i)])));
    expect(first.every((r) => r.ok)).toBe(true);
    expect(sim.state.tokens.issued).toBe(1);

    sim.expireTokens();
    const second = await Promise.all(
      Array.from({ length: 50 }, (_, i) => c.pushEntrances([entrance(100 + i)])),
    );
    expect(second.every((r) => r.ok)).toBe(true);
    expect(sim.state.tokens.issued).toBe(2);
    expect(sim.state.counters.unauthorized).toBeGreaterThanOrEqual(1);
    expect(sim.state.store.count('entrance')).toBe(100);
  });

  it('auth failed with a wrong secret, and the secret is in no message', async () => {
    const wrong = 'wrong-Secret-4711';
    const c = client({ auth: { clientSecret: wrong } });
    const outcome = only(await c.pushEntrances([entrance(1)]));
    expect(outcome).toMatchObject({ kind: 'auth-failed', status: 401 });
    expect(JSON.stringify(outcome)).not.toContain(wrong);
    expect(JSON.stringify(outcome)).not.toContain(SECRET);
    expect(sim.state.store.count('entrance')).toBe(0);
    expect(c.tokenState().valid).toBe(false);
  });

  it('a token endpoint that fails (not refuses) is retryable, not auth failed', async () => {
    sim.setFaults({ http500Rate: 1, tokenEndpointFaults: true });
    const outcome = only(await client().pushEntrances([entrance(1)]));
    expect(outcome).toMatchObject({ kind: 'retryable', status: 500 });
  });

  it.each([
    ['json', 'body'],
    ['json', 'basic'],
    ['form', 'body'],
    ['form', 'basic'],
  ] as const)('token request as %s with client auth in the %s', async (bodyFormat, clientAuth) => {
    const c = client({ auth: { bodyFormat, clientAuth, extraFields: { scope: 'all' } } });
    expect((await c.pushEntrances([entrance(1)])).ok).toBe(true);
    const [request] = sim.state.tokenRequests;
    expect(request).toMatchObject({ clientAuth, grantType: 'client_credentials', result: 'issued' });
    expect(request!.contentType).toContain(
      bodyFormat === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
    );
    expect(request!.fields).toContain('scope');
    if (clientAuth === 'basic') expect(request!.fields).not.toContain('client_secret');
  });

  it('password grant with username and password instead of client credentials', async () => {
    const c = client({
      auth: {
        clientId: undefined,
        clientSecret: undefined,
        grantType: 'password',
        username: 'test-client',
        password: SECRET,
      },
    });
    expect((await c.pushEntrances([entrance(1)])).ok).toBe(true);
    expect(sim.state.tokenRequests[0]).toMatchObject({
      clientAuth: 'none',
      grantType: 'password',
      result: 'issued',
    });
    const bad = client({
      auth: {
        clientId: undefined,
        clientSecret: undefined,
        grantType: 'password',
        username: 'test-client',
        password: 'nope-nope',
      },
    });
    expect(only(await bad.pushEntrances([entrance(2)]))).toMatchObject({ kind: 'auth-failed', status: 400 });
  });
});

describe('outcomes', () => {
  it('delivered with code 0 / msg and with code 200 / message', async () => {
    const c = client();
    expect(only(await c.pushEntrances([entrance(1)]))).toEqual({
      kind: 'delivered',
      code: 0,
      message: 'success',
    });
    sim.setFaults({ successCode: 200, messageKey: 'message' });
    expect(only(await c.pushEntrances([entrance(2)]))).toEqual({
      kind: 'delivered',
      code: 200,
      message: 'success',
    });
  });

  it('rejected with ISP’s message naming the record and field; nothing of the batch stored', async () => {
    const c = client();
    const result = await c.pushEntrances([entrance(1), entrance(2, { enter_time: 1_700_000_000_000 })]);
    const outcome = only(result);
    expect(outcome.kind).toBe('rejected');
    expect(outcome.kind === 'rejected' && outcome.message).toContain(
      '[1].enter_time: looks like milliseconds',
    );
    expect(result).toMatchObject({ delivered: 0, notSent: 2, ok: false });
    expect(sim.state.store.count('entrance')).toBe(0);
  });

  it('rejected by a rule', async () => {
    sim.setFaults({ rejectRules: [{ kind: 'entrance', field: 'plate_number', equals: '鲁A00002' }] });
    const outcome = only(await client().pushEntrances([entrance(1), entrance(2)]));
    expect(outcome).toEqual({
      kind: 'rejected',
      status: 200,
      message: '[1].plate_number "鲁A00002": rejected by a simulator rule',
    });
  });

  it('retryable on HTTP 500', async () => {
    sim.setFaults({ http500Rate: 1 });
    expect(only(await client().pushEntrances([entrance(1)]))).toMatchObject({
      kind: 'retryable',
      status: 500,
    });
  });

  it('retryable on 429, with Retry-After', async () => {
    sim.setFaults({ http429Rate: 1, retryAfterSeconds: 7 });
    expect(only(await client().pushEntrances([entrance(1)]))).toMatchObject({
      kind: 'retryable',
      status: 429,
      retryAfterMs: 7000,
    });
  });

  it('retryable on a timeout (latency beyond the client timeout)', async () => {
    const c = client({ timeoutMs: 400 });
    await c.pushEntrances([entrance(1)]); // token first, without latency
    sim.setFaults({ latencyMs: 3_000 });
    const outcome = only(await c.pushEntrances([entrance(2)]));
    expect(outcome.kind).toBe('retryable');
    expect(outcome.kind === 'retryable' && outcome.reason).toMatch(/^timeout/);
    // The slow ISP still stores the batch the client gave up on: why the pipeline keeps a ledger.
    await until(() => sim.state.store.count('entrance') === 2);
  });

  it('retryable on a dropped connection', async () => {
    sim.setFaults({ dropRate: 1 });
    const outcome = only(await client().pushEntrances([entrance(1)]));
    expect(outcome.kind).toBe('retryable');
    expect(outcome.kind === 'retryable' && outcome.reason).toMatch(/connection/);
    expect(sim.state.counters.dropped).toBe(1);
  });

  it('retryable during a down window (token endpoint included), delivered after it', async () => {
    const c = client();
    sim.setFaults({ downForMs: 60_000 });
    expect(only(await c.pushEntrances([entrance(1)])).kind).toBe('retryable');
    expect(await c.ping()).toBe(false);
    sim.setFaults({ downForMs: 0 });
    expect(await c.ping()).toBe(true);
    expect(only(await c.pushEntrances([entrance(1)])).kind).toBe('delivered');
  });
});

describe('batches', () => {
  it('splits by count and sends the parts in order', async () => {
    const records = Array.from({ length: 250 }, (_, i) => entrance(i));
    const result = await client({ batch: { maxItems: 100 } }).pushEntrances(records);
    expect(result.parts.map((p) => [p.start, p.end, p.outcome.kind])).toEqual([
      [0, 100, 'delivered'],
      [100, 200, 'delivered'],
      [200, 250, 'delivered'],
    ]);
    expect(result).toMatchObject({ delivered: 250, notSent: 250, ok: true });
    expect(sim.state.counters.accepted).toBe(3);
    expect(sim.state.received('entrance').map((e) => e.record?.plate_number)).toEqual(
      records.map((r) => r.plate_number),
    );
  });

  it('splits by bytes; a record larger than maxBytes is its own batch', async () => {
    const photo = (kb: number) => `data:image/jpg;base64,${'A'.repeat(kb * 1024)}`;
    const records = [
      entrance(1, { enter_pic: photo(100) }),
      entrance(2, { enter_pic: photo(100) }),
      entrance(3, { enter_pic: photo(100) }),
      entrance(4, { enter_pic: photo(400) }), // alone over maxBytes
      entrance(5, { enter_pic: photo(100) }),
    ];
    const result = await client({ batch: { maxBytes: 250 * 1024 } }).pushEntrances(records);
    expect(result.parts.map((p) => [p.start, p.end, p.outcome.kind])).toEqual([
      [0, 2, 'delivered'],
      [2, 3, 'delivered'],
      [3, 4, 'delivered'],
      [4, 5, 'delivered'],
    ]);
    expect(sim.state.store.count('entrance')).toBe(5);
  });

  it('stops at the first part that is not delivered and says what was not sent', async () => {
    sim.setFaults({ rejectRules: [{ kind: 'entrance', field: 'plate_number', equals: '鲁A00150' }] });
    const records = Array.from({ length: 300 }, (_, i) => entrance(i));
    const result = await client().pushEntrances(records);
    expect(result.parts.map((p) => [p.start, p.end, p.outcome.kind])).toEqual([
      [0, 100, 'delivered'],
      [100, 200, 'rejected'],
    ]);
    expect(result).toMatchObject({ delivered: 100, notSent: 200, ok: false });
    expect(sim.state.store.count('entrance')).toBe(100);
  });
});

describe('other endpoints', () => {
  it('DELETE /park/spot with a JSON body, split by count', async () => {
    const result = await client({ batch: { maxItems: 2 } }).deleteParks(['ATXL/1', 'ATXL/2', 'ATXL/3']);
    expect(result.parts.map((p) => [p.start, p.end, p.outcome.kind])).toEqual([
      [0, 2, 'delivered'],
      [2, 3, 'delivered'],
    ]);
    expect(sim.state.received('park-deletion').map((e) => e.key)).toEqual(['ATXL/1', 'ATXL/2', 'ATXL/3']);
  });

  it('a park code with "," is not sent, the codes before it are', async () => {
    const result = await client().deleteParks(['ATXL/1', 'ATXL/2,ATXL/3', 'ATXL/4']);
    expect(result.parts.map((p) => [p.start, p.end, p.outcome.kind])).toEqual([
      [0, 1, 'delivered'],
      [1, 2, 'rejected'],
    ]);
    expect(result.notSent).toBe(2);
    expect(sim.state.received('park-deletion').map((e) => e.key)).toEqual(['ATXL/1']);
  });

  it('parks, spot counts and departures', async () => {
    const c = client();
    const park = {
      park_code: 'ATXL/1',
      park_name: '奥体西路',
      longitude: 117.1,
      latitude: 36.6,
      coordinate_system: 'GCJ02' as const,
    };
    expect((await c.upsertParks([park])).ok).toBe(true);
    expect(
      (
        await c.pushSpotNums([
          { park_code: 'ATXL/1', total_spots_num: 10, remain_spots_num: 4, used_spots_num: 6 },
        ])
      ).ok,
    ).toBe(true);
    const departure = {
      park_code: 'ATXL/1',
      plate_number: '鲁A12345',
      depart_time: 1_700_003_600,
      car_type: '2',
      car_logo: '大众',
      depart_pic: '',
      use_time: 60,
      payable_fee: 5,
      paid_fee: 5,
      pay_time: 1_700_003_500,
      pay_type: '3',
    };
    expect((await c.pushDepartures([departure])).ok).toBe(true);
    expect(sim.state.stats().received).toMatchObject({ park: 1, 'spot-num': 1, departure: 1 });
  });
});
