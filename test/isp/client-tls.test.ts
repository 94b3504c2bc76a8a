/**
 * https to ISP: certificates are always verified; a CA file (config isp.caFile) adds trust, and
 * without it a self-signed server is refused. Uses openssl to make the certificate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { IspClient, IspConfigError } from '../../src/isp/index.js';
import { type Simulator, startSimulator } from '../../src/sim/isp/index.js';

let dir: string;
let sim: Simulator;
let caFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'isp-tls-'));
  const key = join(dir, 'key.pem');
  caFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      caFile,
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const { readFileSync } = await import('node:fs');
  sim = await startSimulator({ tls: { key: readFileSync(key), cert: readFileSync(caFile) } });
});

afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

function client(extra: Record<string, unknown>): IspClient {
  const isp = loadConfig({
    env: {},
    overrides: {
      isp: {
        baseUrl: sim.url,
        timeoutMs: 5_000,
        auth: { clientId: 'demo-client', clientSecret: 'x' },
        ...extra,
      },
    },
  }).isp;
  return new IspClient({ isp, source: 'client-tls-test' });
}

const spot = [{ park_code: 'ATXL/1', total_spots_num: 10, remain_spots_num: 4, used_spots_num: 6 }];

describe('https', () => {
  it('delivers when the CA file trusts the server', async () => {
    expect(sim.url).toMatch(/^https:/);
    const c = client({ caFile });
    try {
      expect((await c.pushSpotNums(spot)).ok).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('refuses an untrusted certificate (retryable, says why)', async () => {
    const c = client({});
    try {
      const outcome = (await c.pushSpotNums(spot)).parts[0]!.outcome;
      expect(outcome.kind).toBe('retryable');
      expect(outcome.kind === 'retryable' && outcome.reason).toMatch(/certificate/i);
      expect(sim.state.store.count('spot-num')).toBe(1);
    } finally {
      await c.close();
    }
  });

  it('an unreadable CA file fails at construction', () => {
    const missing = join(dir, 'missing.pem');
    writeFileSync(join(dir, 'other'), '');
    expect(() => client({ caFile: missing })).toThrow(IspConfigError);
  });
});
