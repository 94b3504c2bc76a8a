/**
 * The simulator's per-lot state over real HTTP: registered or deleted, the
 * current count and when it was set, and what each lot accepted, read through GET /_sim/lots as
 * tests of the pipeline will.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../../src/sim/isp/index.js';
import { simLot, simLots } from '../../helpers/sim-lots.js';

let s: Simulator | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function push(sim: Simulator, method: string, path: string, body: unknown): Promise<number> {
  const tokenRes = await fetch(`${sim.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'demo-client', client_secret: 'x' }),
  });
  const { access_token } = (await tokenRes.json()) as { access_token: string };
  const res = await fetch(sim.url + path, {
    method,
    headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return ((await res.json()) as { code: number }).code;
}

const count = (code: string, used: number) => ({
  park_code: code,
  total_spots_num: 10,
  remain_spots_num: 10 - used,
  used_spots_num: used,
});
const entrance = (code: string, i: number) => ({
  park_code: code,
  plate_number: `鲁A${String(i).padStart(5, '0')}`,
  enter_time: 1_700_000_000 + i,
  car_type: '2',
  car_logo: '大众',
  enter_pic: '',
});

describe('per-lot state', () => {
  it('shows each lot registered or deleted, its last count with its time, and what it accepted', async () => {
    s = await startSimulator();
    const park = { park_code: 'ATXL/1', park_name: '奥体西路', coordinate_system: 'GCJ02' };
    const t0 = Date.now();
    expect(
      await push(s, 'POST', '/park/spot', [park, { park_code: 'ATXL/2', coordinate_system: 'GCJ02' }]),
    ).toBe(0);
    expect(await push(s, 'POST', '/park/spot-num', [count('ATXL/1', 3)])).toBe(0);
    const t1 = Date.now();
    expect(await push(s, 'POST', '/park/spot-num', [count('ATXL/1', 4)])).toBe(0);
    expect(await push(s, 'POST', '/park/entrance', [entrance('ATXL/1', 1), entrance('ATXL/1', 2)])).toBe(0);
    expect(await push(s, 'POST', '/park/spot-num', [count('ATXL/2', 1)])).toBe(0);
    expect(await push(s, 'DELETE', '/park/spot', { park_code: 'ATXL/2' })).toBe(0);

    const one = await simLot(s.url, 'ATXL/1');
    expect(one).toEqual({
      parkCode: 'ATXL/1',
      status: 'registered',
      registeredAt: expect.any(Number),
      deletedAt: null,
      park,
      count: { total: 10, remain: 6, used: 4, at: expect.any(Number) },
      accepted: { 'spot-num': 2, entrance: 2, departure: 0 },
      refused: { 'spot-num': 0, entrance: 0, departure: 0 },
    });
    expect(one!.registeredAt).toBeGreaterThanOrEqual(t0);
    expect(one!.count!.at).toBeGreaterThanOrEqual(t1);
    expect(one!.count!.at).toBeLessThanOrEqual(Date.now());

    // A deleted lot has no count any more; what it accepted stays on record.
    const two = await simLot(s.url, 'ATXL/2');
    expect(two).toMatchObject({ status: 'deleted', count: null, accepted: { 'spot-num': 1 } });
    expect(two!.deletedAt).toBeGreaterThanOrEqual(two!.registeredAt!);

    expect((await simLots(s.url)).map((lot) => [lot.parkCode, lot.status])).toEqual([
      ['ATXL/1', 'registered'],
      ['ATXL/2', 'deleted'],
    ]);
    expect(await simLot(s.url, 'ATXL/9')).toBeUndefined();
    expect(s.state.stats().lots).toEqual({ registered: 1, deleted: 1, unregistered: 0 });
  });

  it('reset forgets the lots', async () => {
    s = await startSimulator();
    await push(s, 'POST', '/park/spot', [{ park_code: 'A', coordinate_system: 'GCJ02' }]);
    expect(await simLots(s.url)).toHaveLength(1);
    await fetch(`${s.url}/_sim/reset`, { method: 'POST' });
    expect(await simLots(s.url)).toEqual([]);
  });
});
