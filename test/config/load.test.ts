import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_FILES_VAR, ENV_VARS, loadConfig, PROJECT_ROOT } from '../../src/config/index.js';
import { PHOTO_MAX_BYTES } from '../../src/isp-spec/index.js';
import { configErrorOf as errorOf } from '../helpers/config-error.js';

function tempFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ips-config-'));
  const file = join(dir, 'c.yaml');
  writeFileSync(file, text);
  return file;
}

describe('config', () => {
  it('loads the defaults and both presets', () => {
    for (const preset of ['config/presets/visit-table.yaml', 'config/presets/entry-exit.yaml']) {
      const config = loadConfig({ files: [preset], env: {} });
      expect(config.photo.maxBytes).toBe(PHOTO_MAX_BYTES);
      expect(config.streams.entrances.cursor.time).toBeTruthy();
      expect(config.pipeline.fullSync.tz).toBe('Asia/Shanghai');
    }
  });

  it("turns off a preset's photo with photo: null in a later layer", () => {
    const preset = 'config/presets/visit-table.yaml';
    expect(loadConfig({ files: [preset], env: {} }).streams.entrances.photo).toBeDefined();
    const off = tempFile('streams:\n  entrances:\n    photo: null\n');
    const config = loadConfig({ files: [preset, off], env: {} });
    expect(config.streams.entrances.photo).toBeUndefined();
    expect(config.streams.departures.photo).toBeDefined();
  });

  it('names the key and the problem', () => {
    const error = errorOf(() => loadConfig({ env: { ISP_BASE_URL: 'ftp://isp' } }));
    expect(error.message).toContain('isp.baseUrl: must be an http(s) URL');
    const zone = errorOf(() => loadConfig({ env: { VENDOR_TIME_ZONE: 'Mars/Olympus' } }));
    expect(zone.message).toContain('vendor.timeZone: must be an IANA time zone');
    const port = errorOf(() => loadConfig({ env: { WEB_PORT: 'eighty' } }));
    expect(port.message).toContain('web.port');
  });

  it('keeps the low-latency live lag under the commit lag, and only asks it of a low-latency stream', () => {
    const preset = 'config/presets/visit-table.yaml';
    expect(loadConfig({ files: [preset], env: {} }).vendor.liveLagMs).toBe(1250);
    const low = tempFile('vendor:\n  commitLagSeconds: 1\nstreams:\n  departures:\n    mode: low-latency\n');
    const error = errorOf(() => loadConfig({ files: [preset, low], env: {} }));
    expect(error.message).toContain(
      'vendor.liveLagMs: must be below vendor.commitLagSeconds (1 s) while departures run',
    );
    const guarded = tempFile('vendor:\n  commitLagSeconds: 1\n');
    expect(loadConfig({ files: [preset, guarded], env: {} }).vendor.commitLagSeconds).toBe(1);
    const probing = tempFile('streams:\n  entrances:\n    probeIdGaps: true\n');
    expect(errorOf(() => loadConfig({ files: [preset, probing], env: {} })).message).toContain(
      'streams.entrances.probeIdGaps: probes the gaps a low-latency read leaves: set streams.entrances.mode: low-latency',
    );
    const short = tempFile(
      'vendor:\n  commitLagSeconds: 1\n  liveLagMs: 250\nstreams:\n  departures:\n    mode: low-latency\n',
    );
    expect(loadConfig({ files: [preset, short], env: {} }).vendor.liveLagMs).toBe(250);
  });

  it('refuses a bound on failed jobs (they are undelivered events) and says what to do instead', () => {
    const file = tempFile('pipeline:\n  keepFailed: { ageSeconds: 60, count: 10 }\n');
    const error = errorOf(() => loadConfig({ files: [file], env: {} }));
    expect(error.message).toContain('pipeline.keepFailed: failed jobs are no longer expired');
    expect(error.message).toContain('replay --discard');
    expect(loadConfig({ env: { STATE_DIR: '/srv/isp-state' } }).redis.stateDir).toBe('/srv/isp-state');
  });

  it('reports a missing required key and an unknown key', () => {
    const file = tempFile('streams:\n  entrances:\n    cursor: { time: t }\n');
    const error = errorOf(() => loadConfig({ files: [file], env: {} }));
    expect(error.message).toContain('streams.entrances.cursor.id: is required');
    const typo = tempFile('isp:\n  timeoutMS: 5\n');
    expect(errorOf(() => loadConfig({ files: [typo], env: {} })).message).toMatch(/isp.*timeoutMS/);
  });

  it('refuses secrets in files and takes them from the environment', () => {
    const file = tempFile('isp:\n  auth:\n    clientSecret: hunter2\n');
    const error = errorOf(() => loadConfig({ files: [file], env: {} }));
    expect(error.message).toContain('isp.auth.clientSecret');
    expect(error.message).toContain('ISP_CLIENT_SECRET');
    expect(error.message).not.toContain('hunter2');
    const url = tempFile('vendor:\n  url: mysql://u:pw@db/x\n');
    expect(errorOf(() => loadConfig({ files: [url], env: {} })).message).toContain('VENDOR_DB_URL');
    const config = loadConfig({ env: { ISP_CLIENT_SECRET: 's3', VENDOR_DB_URL: 'mysql://u:p@h/db' } });
    expect(config.isp.auth.clientSecret).toBe('s3');
    expect(config.vendor.url).toBe('mysql://u:p@h/db');
  });

  it('reads the files named by ISP_SYNC_CONFIG', () => {
    const config = loadConfig({ env: { [CONFIG_FILES_VAR]: 'config/presets/entry-exit.yaml' } });
    expect(config.streams.parks.coordinateSystem).toBe('BD09');
  });

  it('.env.example lists every environment variable', () => {
    const example = readFileSync(join(PROJECT_ROOT, '.env.example'), 'utf8');
    for (const v of ENV_VARS) expect(example).toMatch(new RegExp(`^${v.name}=`, 'm'));
    expect(example).toMatch(new RegExp(`^${CONFIG_FILES_VAR}=`, 'm'));
  });
});

describe('config type errors', () => {
  it('says what type was expected, not "is required", for a wrong type', () => {
    const file = tempFile('isp:\n  timeoutMs: soon\n');
    const error = errorOf(() => loadConfig({ files: ['config/presets/visit-table.yaml', file], env: {} }));
    expect(error.message).toContain('isp.timeoutMs: expected number');
    expect(error.message).not.toContain('isp.timeoutMs: is required');
  });
});
