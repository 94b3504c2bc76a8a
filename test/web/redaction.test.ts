/**
 * The dashboard's last-step scrubber replaces the values of secret fields only (passwords, tokens,
 * client secrets), so a user name such as `admin` leaves the dashboard's own links alone, and it
 * knows URL passwords however they are written (raw `@`, `:`, `/`, `#` or percent-encoded).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig } from '../../src/config/index.js';
import { createScrubber, SCRUBBED, secretValues } from '../../src/web/redaction.js';

describe('secret values', () => {
  it('are passwords, tokens and client secrets, not user names or client ids', () => {
    const secret = ENV_VARS.filter((v) => v.secret).map((v) => v.name);
    expect(secret).toEqual(
      expect.arrayContaining(['ISP_CLIENT_SECRET', 'ISP_PASSWORD', 'WEB_PASSWORD', 'WEB_TOKEN']),
    );
    for (const name of ['WEB_USER', 'ISP_USERNAME', 'ISP_CLIENT_ID']) expect(secret).not.toContain(name);
  });

  it('leave the dashboard links of WEB_USER=admin whole', () => {
    const config = loadConfig({
      env: {},
      overrides: {
        web: { user: 'admin', password: 'web-pass-1' },
        isp: { auth: { clientId: 'queues', clientSecret: 'isp-secret-1' } },
      },
    });
    const secrets = secretValues(config);
    expect(secrets).not.toContain('admin');
    expect(secrets).not.toContain('queues');
    const page = '<a href="/admin/queues">queues</a> web-pass-1 isp-secret-1';
    expect(createScrubber(secrets)(page)).toBe(`<a href="/admin/queues">queues</a> ${SCRUBBED} ${SCRUBBED}`);
  });

  it('include the alert webhook address whole, and its token alone', () => {
    const url = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa';
    const config = loadConfig({ env: { ALERTS_WEBHOOK_URL: url, ALERTS_WEBHOOK_SECRET: 'SECding0123' } });
    const scrub = createScrubber(secretValues(config));
    expect(scrub(`posting to ${url} failed; key 693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa; SECding0123`)).toBe(
      `posting to ${SCRUBBED} failed; key ${SCRUBBED}; ${SCRUBBED}`,
    );
  });

  it('include URL passwords written raw or encoded, whatever they hold', () => {
    const password = fc
      .array(fc.constantFrom('@', ':', '/', '%', '#', 'x', 'Y', '7', '%2F'), { minLength: 4, maxLength: 14 })
      .map((p) => p.join(''));
    fc.assert(
      fc.property(password, fc.boolean(), (p, encode) => {
        const written = encode ? encodeURIComponent(p) : p;
        const config = loadConfig({
          env: {},
          overrides: { vendor: { url: `mysql://reader:${written}@127.0.0.1:3306/parking` } },
        });
        const scrub = createScrubber(secretValues(config));
        const text = scrub(`error: access denied, password ${p} (as written: ${written})`);
        expect(text).not.toContain(p);
        expect(text).not.toContain(written);
      }),
      { numRuns: 300 },
    );
  });
});
