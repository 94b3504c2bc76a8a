/** `isp-park-sync sim`: starts from the command line with fault flags, prints its URL, stops on SIGTERM. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.js';

let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

function startCli(args: string[], env: Record<string, string>): Promise<string> {
  const proc = spawn(process.execPath, ['bin/isp-park-sync.js', 'sim', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ISP_SYNC_CONFIG: '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let out = '';
  let err = '';
  proc.stderr!.on('data', (chunk) => {
    err += chunk;
  });
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (chunk) => {
      out += chunk;
      const url = /listening on (https?:\/\/\S+)/.exec(out)?.[1];
      if (url) resolve(url);
    });
    proc.once('exit', (code) => reject(new Error(`sim exited with ${code}: ${err}${out}`)));
  });
}

describe('sim command', () => {
  it('runs with flags and the secret from the environment, and stops on SIGTERM', async () => {
    const url = await startCli(
      [
        '--port',
        '0',
        '--success-code',
        '200',
        '--message-key',
        'message',
        '--reject',
        'entrance:plate_number=京A00001',
        '--storage',
        'light',
      ],
      { SIM_CLIENT_SECRET: 'cli-secret', SIM_CLIENT_ID: 'cli-client' },
    );
    const tokenAnswer = await fetch(`${url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: 'cli-client',
        client_secret: 'cli-secret',
      }),
    });
    expect(tokenAnswer.status).toBe(200);
    const { access_token } = (await tokenAnswer.json()) as { access_token: string };
    const post = async (plate: string) => {
      const res = await fetch(`${url}/park/entrance`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${access_token}` },
        body: JSON.stringify([
          {
            park_code: 'P1',
            plate_number: plate,
            enter_time: 1_700_000_000,
            car_type: '2',
            car_logo: '',
            enter_pic: '',
          },
        ]),
      });
      return res.json();
    };
    expect(await post('京A00002')).toEqual({ code: 200, message: 'success' });
    expect(await post('京A00001')).toMatchObject({ code: 1 });
    const stats = (await (await fetch(`${url}/_sim/stats`)).json()) as {
      storage: string;
      received: { entrance: number };
    };
    expect(stats).toMatchObject({ storage: 'light', received: { entrance: 1 } });

    const exited = once(child!, 'exit');
    child!.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('turns strictness on from flags', async () => {
    const url = await startCli(
      ['--port', '0', '--known-lots', '--decode-photos', '--body-limit', '2048', '--unauthorized-in-body'],
      {},
    );
    expect(await (await fetch(`${url}/_sim/strict`)).json()).toEqual({
      knownLots: true,
      decodePhotos: true,
      maxBodyBytes: 2048,
      unauthorizedInBody: true,
    });
    // 401 in the body, then a count for a lot never registered refused.
    const noToken = await fetch(`${url}/park/spot-num`, { method: 'POST' });
    expect([noToken.status, await noToken.json()]).toEqual([200, expect.objectContaining({ code: 401 })]);
    const tokenAnswer = await fetch(`${url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: 'demo-client',
        client_secret: 'x',
      }),
    });
    const { access_token } = (await tokenAnswer.json()) as { access_token: string };
    const count = await fetch(`${url}/park/spot-num`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${access_token}` },
      body: JSON.stringify([{ park_code: 'P1', total_spots_num: 1, remain_spots_num: 1, used_spots_num: 0 }]),
    });
    expect(await count.json()).toEqual({
      code: 1,
      msg: expect.stringContaining('park_code "P1": no such lot'),
    });
  });

  it('refuses a bad flag with a message', async () => {
    await expect(startCli(['--port', '0', '--fail-rate', '1.5'], {})).rejects.toThrow(
      /probability from 0 to 1/,
    );
  });
});
