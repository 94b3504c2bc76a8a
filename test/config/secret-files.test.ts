/**
 * Secrets from `<NAME>_FILE` (Docker and Kubernetes secrets), and the opt-in a plain http:// ISP on
 * another host needs. In-process: loadConfig with an explicit environment.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig } from '../../src/config/index.js';
import { configErrorOf as errorOf } from '../helpers/config-error.js';

const dir = mkdtempSync(join(tmpdir(), 'ips-secret-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function secretFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

describe('secrets from *_FILE', () => {
  it('reads every secret variable from its file, trailing line break removed', () => {
    const env: NodeJS.ProcessEnv = {};
    for (const v of ENV_VARS.filter((e) => e.secret || e.fromFile)) {
      const scheme = v.name.startsWith('REDIS') ? 'redis' : v.name.startsWith('ALERTS') ? 'https' : 'mysql';
      const value = v.key.endsWith('url')
        ? `${scheme}://u:p@s%40/x:y@h/db-${v.name}`
        : `value of ${v.name} with spaces  `;
      env[`${v.name}_FILE`] = secretFile(v.name, `${value}\n`);
    }
    env.VENDOR_DB_URL_FILE = secretFile('vendor-crlf', 'mysql://ro:pw@db:3306/parking\r\n');
    const config = loadConfig({ env });
    expect(config.isp.auth.clientSecret).toBe('value of ISP_CLIENT_SECRET with spaces  ');
    expect(config.isp.auth.clientId).toBe('value of ISP_CLIENT_ID with spaces  ');
    expect(config.web.password).toBe('value of WEB_PASSWORD with spaces  ');
    expect(config.vendor.url).toBe('mysql://ro:pw@db:3306/parking');
    expect(config.redis.url).toBe('redis://u:p@s%40/x:y@h/db-REDIS_URL');
    expect(config.alerts.webhook.url).toBe('https://u:p@s%40/x:y@h/db-ALERTS_WEBHOOK_URL');
    expect(config.alerts.webhook.secret).toBe('value of ALERTS_WEBHOOK_SECRET with spaces  ');
  });

  it('refuses the alert webhook address in a config file: its token is a secret', () => {
    const file = secretFile(
      'config.yaml',
      'alerts:\n  webhook:\n    url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc\n',
    );
    const error = errorOf(() => loadConfig({ env: {}, files: [file] }));
    expect(error.message).toContain('alerts.webhook.url: secrets may not be set in');
    expect(error.message).toContain('set ALERTS_WEBHOOK_URL in the environment');
    expect(error.message).not.toContain('key=abc');
  });

  it('refuses the variable and its file together, naming both', () => {
    const file = secretFile('both', 'from-file\n');
    const error = errorOf(() =>
      loadConfig({ env: { ISP_CLIENT_SECRET: 'from-env', ISP_CLIENT_SECRET_FILE: file } }),
    );
    expect(error.message).toContain('ISP_CLIENT_SECRET and ISP_CLIENT_SECRET_FILE');
    expect(error.message).not.toContain('from-env');
    expect(error.message).not.toContain('from-file');
  });

  it('names an unreadable or empty file without printing any content', () => {
    const missing = join(dir, 'does-not-exist');
    const gone = errorOf(() => loadConfig({ env: { WEB_TOKEN_FILE: missing } }));
    expect(gone.message).toContain(`WEB_TOKEN_FILE=${missing} cannot be read (ENOENT)`);
    const empty = errorOf(() => loadConfig({ env: { WEB_TOKEN_FILE: secretFile('empty', '\n') } }));
    expect(empty.message).toMatch(/WEB_TOKEN_FILE=.* is empty/);
    if (process.getuid?.() !== 0) {
      const locked = secretFile('locked', 'secret-value\n');
      chmodSync(locked, 0o000);
      const denied = errorOf(() => loadConfig({ env: { WEB_TOKEN_FILE: locked } }));
      expect(denied.message).toContain('EACCES');
    }
  });

  it('refuses a _FILE variable of a setting that is not secret instead of ignoring it', () => {
    const error = errorOf(() => loadConfig({ env: { ISP_BASE_URL_FILE: secretFile('url', 'https://isp') } }));
    expect(error.message).toContain('ISP_BASE_URL_FILE is not read');
    expect(error.message).toContain('set ISP_BASE_URL');
  });
});

describe('plain http:// to ISP', () => {
  it('is accepted on loopback and refused elsewhere unless opted in, naming the opt-in', () => {
    for (const url of ['http://127.0.0.1:8090', 'http://localhost:8090/api', 'http://[::1]:8090']) {
      expect(loadConfig({ env: { ISP_BASE_URL: url } }).isp.baseUrl).toBe(url);
    }
    const error = errorOf(() => loadConfig({ env: { ISP_BASE_URL: 'http://isp.example.cn/api' } }));
    expect(error.message).toContain('isp.baseUrl: plain http://');
    expect(error.message).toContain('ISP_ALLOW_INSECURE_HTTP=true');
    const sneaky = errorOf(() => loadConfig({ env: { ISP_BASE_URL: 'http://127.0.0.1.example.cn' } }));
    expect(sneaky.message).toContain('ISP_ALLOW_INSECURE_HTTP');
    const allowed = loadConfig({
      env: { ISP_BASE_URL: 'http://isp-sim:8090', ISP_ALLOW_INSECURE_HTTP: 'true' },
    });
    expect(allowed.isp.allowInsecureHttp).toBe(true);
    expect(loadConfig({ env: { ISP_BASE_URL: 'https://isp.example.cn/api' } }).isp.baseUrl).toBe(
      'https://isp.example.cn/api',
    );
  });
});
