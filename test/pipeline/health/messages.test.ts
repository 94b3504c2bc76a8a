/** Alert notifications as webhook bodies (generic, WeCom, DingTalk) and DingTalk's signature, pure. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  cutToBytes,
  dingTalkSignature,
  dingTalkSignedUrl,
  headline,
  messageBody,
} from '../../../src/pipeline/health/messages.js';
import type { AlertNotification } from '../../../src/state/lot-health.js';

const ZONE = 'Asia/Shanghai';
const fired: AlertNotification = {
  event: 'fired',
  alert: 'quiet-lot',
  lot: '鲁A停车场/1',
  stream: '',
  reason: 'lot 鲁A停车场/1 has had no entrance or departure for 41 min',
  since: 1_796_608_800, // 2026-12-07 10:00:00 in Shanghai
  at: 1_796_608_800,
};
const cleared: AlertNotification = { ...fired, event: 'cleared', at: fired.since + 3_900 };

describe('message text', () => {
  it('names the alert, what it is about and, when it clears, how long it lasted', () => {
    expect(headline(fired)).toBe('FIRING quiet-lot, lot 鲁A停车场/1');
    expect(headline(cleared)).toBe('CLEARED quiet-lot, lot 鲁A停车场/1 (active 65 min)');
    expect(headline({ ...fired, lot: '', stream: 'entrances', alert: 'read-lag' })).toBe(
      'FIRING read-lag, stream entrances',
    );
  });
});

describe('presets', () => {
  it('generic: the text and every notification as JSON', () => {
    const body = messageBody([fired], { preset: 'generic', format: 'text', zone: ZONE });
    expect(body).toEqual({
      source: 'isp-park-sync',
      text: `isp-park-sync: FIRING quiet-lot, lot 鲁A停车场/1 (2026-12-07 10:00:00)\n${fired.reason}`,
      notifications: [{ ...fired, headline: 'FIRING quiet-lot, lot 鲁A停车场/1' }],
    });
  });

  it('WeCom: the group robot’s text and markdown messages', () => {
    expect(messageBody([fired], { preset: 'wecom', format: 'text', zone: ZONE })).toEqual({
      msgtype: 'text',
      text: {
        content: `isp-park-sync: FIRING quiet-lot, lot 鲁A停车场/1 (2026-12-07 10:00:00)\n${fired.reason}`,
      },
    });
    expect(messageBody([fired], { preset: 'wecom', format: 'markdown', zone: ZONE })).toEqual({
      msgtype: 'markdown',
      markdown: {
        content: `### isp-park-sync\n\n**FIRING quiet-lot, lot 鲁A停车场/1** (2026-12-07 10:00:00)\n\n> ${fired.reason}`,
      },
    });
  });

  it('DingTalk: text, and markdown with its title', () => {
    expect(messageBody([cleared], { preset: 'dingtalk', format: 'text', zone: ZONE })).toEqual({
      msgtype: 'text',
      text: {
        content: `isp-park-sync: CLEARED quiet-lot, lot 鲁A停车场/1 (active 65 min) (2026-12-07 11:05:00)\n${fired.reason}`,
      },
    });
    const md = messageBody([fired, cleared], { preset: 'dingtalk', format: 'markdown', zone: ZONE }) as {
      msgtype: string;
      markdown: { title: string; text: string };
    };
    expect(md.msgtype).toBe('markdown');
    expect(md.markdown.title).toBe('isp-park-sync');
    expect(md.markdown.text.split('\n')).toEqual([
      '### isp-park-sync: 2 alert notifications, gathered by the rate limit',
      '',
      `- **FIRING quiet-lot, lot 鲁A停车场/1** (2026-12-07 10:00:00) — ${fired.reason}`,
      `- **CLEARED quiet-lot, lot 鲁A停车场/1 (active 65 min)** (2026-12-07 11:05:00) — ${fired.reason}`,
    ]);
  });

  it('cuts a WeCom text to 2048 UTF-8 bytes at a character boundary, saying so', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ ...fired, lot: `停车场${i}` }));
    const body = messageBody(many, { preset: 'wecom', format: 'text', zone: ZONE }) as {
      text: { content: string };
    };
    expect(Buffer.byteLength(body.text.content, 'utf8')).toBeLessThanOrEqual(2_048);
    expect(body.text.content).toMatch(/… \(cut: see the status page\)$/);
    expect(body.text.content).not.toContain('\uFFFD');
    expect(cutToBytes('短', 100)).toBe('短');
  });
});

describe('DingTalk signature', () => {
  const secret = 'SECabcdef0123456789';
  it('is Base64 HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret', () => {
    const ts = 1_796_608_800_123;
    // Written out step by step as DingTalk's documentation gives it.
    const stringToSign = `${ts}\n${secret}`;
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8'))
      .update(Buffer.from(stringToSign, 'utf8'))
      .digest()
      .toString('base64');
    expect(dingTalkSignature(secret, ts)).toBe(expected);
    expect(dingTalkSignature(secret, ts + 1)).not.toBe(expected);
  });

  it('goes on the robot URL as timestamp and URL-encoded sign', () => {
    const ts = 1_796_608_800_123;
    const url = dingTalkSignedUrl('https://oapi.dingtalk.com/robot/send?access_token=abc', secret, ts);
    const parsed = new URL(url);
    expect(parsed.searchParams.get('access_token')).toBe('abc');
    expect(parsed.searchParams.get('timestamp')).toBe(String(ts));
    expect(parsed.searchParams.get('sign')).toBe(dingTalkSignature(secret, ts));
    // '+', '/' and '=' of Base64 are percent-encoded, not left for the server to misread.
    expect(url.slice(url.indexOf('sign=') + 5)).not.toMatch(/[+/=]/);
  });
});
