/**
 * `start` refuses to run half-configured: the real CLI in a child process, in an empty working
 * directory (no .env of the developer's), with a bare environment. Each required variable left out
 * in turn: exit 78 (EX_CONFIG) within 5 s, that variable named, no other required one named.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.js';

const cwd = mkdtempSync(join(tmpdir(), 'ips-start-config-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

interface Run {
  code: number | null;
  output: string;
  ms: number;
}

function start(env: NodeJS.ProcessEnv, dir = cwd): Promise<Run> {
  const began = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/isp-park-sync.js'), 'start', '--no-web'], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c) => {
      output += c;
    });
    child.stderr.on('data', (c) => {
      output += c;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`start did not exit within 15 s:\n${output}`));
    }, 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, ms: Date.now() - began });
    });
  });
}

// Nothing listens on port 1: should start ever get past its config, it fails differently (not 78).
const COMPLETE: Record<string, string> = {
  ISP_BASE_URL: 'https://127.0.0.1:1/api',
  ISP_CLIENT_ID: 'client-under-test',
  ISP_CLIENT_SECRET: 'secret-under-test',
  VENDOR_DB_URL: 'mysql://readonly:pw-under-test@127.0.0.1:1/parking',
  REDIS_URL: 'redis://127.0.0.1:1',
};
const REQUIRED = ['ISP_BASE_URL', 'ISP_CLIENT_ID', 'ISP_CLIENT_SECRET', 'VENDOR_DB_URL'];

describe('start without its required settings', () => {
  // Warm the compile cache first, so the 5 s bound measures start, not a first compile.
  it('passes its config check with every required setting', async () => {
    const run = await start({ ...COMPLETE, REDIS_URL: 'not-a-redis-url' });
    expect(run.code, run.output).toBe(78);
    expect(run.output).toContain('redis.url');
    expect(run.output).not.toContain('missing required settings');
  });

  it.each(REQUIRED)('exits 78 within 5 s naming %s', async (name) => {
    const env = { ...COMPLETE };
    delete env[name];
    const run = await start(env);
    expect(run.code, run.output).toBe(78);
    expect(run.ms).toBeLessThan(5_000);
    expect(run.output).toContain(`${name} `);
    for (const other of REQUIRED.filter((n) => n !== name)) expect(run.output).not.toContain(`${other} `);
    for (const secret of ['secret-under-test', 'pw-under-test']) expect(run.output).not.toContain(secret);
  });

  it('names every missing variable at once, and the password grant asks for its own', async () => {
    const none = await start({});
    expect(none.code).toBe(78);
    for (const name of REQUIRED) expect(none.output).toContain(name);
    const config = join(cwd, 'password-grant.yaml');
    writeFileSync(config, 'isp:\n  auth:\n    grantType: password\n');
    const password = await start({
      ISP_SYNC_CONFIG: `config/presets/visit-table.yaml,${config}`,
      ISP_BASE_URL: COMPLETE.ISP_BASE_URL!,
      VENDOR_DB_URL: COMPLETE.VENDOR_DB_URL!,
      ISP_USERNAME: 'user-under-test',
    });
    expect(password.code).toBe(78);
    expect(password.output).toContain('ISP_PASSWORD');
    expect(password.output).not.toContain('ISP_CLIENT_SECRET');
  });

  it('refuses a secret set twice and a plain http:// ISP elsewhere, with exit 78', async () => {
    const file = join(cwd, 'secret');
    writeFileSync(file, 'file-secret\n');
    const both = await start({ ...COMPLETE, ISP_CLIENT_SECRET_FILE: file });
    expect(both.code).toBe(78);
    expect(both.output).toContain('ISP_CLIENT_SECRET and ISP_CLIENT_SECRET_FILE');
    const http = await start({ ...COMPLETE, ISP_BASE_URL: 'http://isp.example.cn' });
    expect(http.code).toBe(78);
    expect(http.output).toContain('ISP_ALLOW_INSECURE_HTTP');
  });

  it('reads .env from its working directory; the environment wins over it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ips-start-dotenv-'));
    try {
      writeFileSync(
        join(dir, '.env'),
        `ISP_BASE_URL=${COMPLETE.ISP_BASE_URL}\nISP_CLIENT_ID=from-dotenv\nISP_CLIENT_SECRET=\nVENDOR_DB_URL=${COMPLETE.VENDOR_DB_URL}\n`,
      );
      const run = await start({}, dir);
      expect(run.code).toBe(78);
      expect(run.output).toContain('ISP_CLIENT_SECRET ');
      for (const name of ['ISP_BASE_URL', 'ISP_CLIENT_ID ', 'VENDOR_DB_URL'])
        expect(run.output).not.toContain(name);
      const wins = await start({ ISP_BASE_URL: 'ftp://from-environment', ISP_CLIENT_SECRET: 'x' }, dir);
      expect(wins.output).toContain('isp.baseUrl: must be an http(s) URL');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
