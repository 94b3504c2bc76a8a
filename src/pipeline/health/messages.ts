/**
 * Alert notifications as webhook requests, pure: the text an operator reads in a chat group, the
 * body of each preset (`generic` JSON; the WeCom and DingTalk group robots' `text` and `markdown`
 * messages), and DingTalk's signature (its robot security setting "加签": HMAC-SHA256 of
 * `timestamp + "\n" + secret` keyed by the secret, Base64, URL-encoded, sent as `timestamp` and
 * `sign` query parameters). Secrets come in as arguments and never go into a body.
 */
import { createHmac } from 'node:crypto';
import { DateTime } from 'luxon';
import type { AlertNotification } from '../../state/lot-health.js';
import { duration } from './rules.js';

export type Preset = 'generic' | 'wecom' | 'dingtalk';
export type Format = 'text' | 'markdown';

/** Every message starts with this: a DingTalk robot's keyword setting can require it. */
export const MESSAGE_TAG = 'isp-park-sync';

/**
 * Content limits, UTF-8 bytes: WeCom's text 2048 and markdown 4096, DingTalk's 20000 (a longer
 * message is refused whole, so it is cut with a note instead).
 */
const LIMITS: Record<Exclude<Preset, 'generic'>, Record<Format, number>> = {
  wecom: { text: 2_048, markdown: 4_096 },
  dingtalk: { text: 20_000, markdown: 20_000 },
};

/** One line naming the alert: `FIRING quiet-lot, lot ATXL/3`, `CLEARED … (active 2 h 5 min)`. */
export function headline(n: AlertNotification): string {
  const subject = [n.lot && `lot ${n.lot}`, n.stream && `stream ${n.stream}`].filter(Boolean).join(', ');
  const what = `${n.alert}${subject ? `, ${subject}` : ''}`;
  return n.event === 'fired' ? `FIRING ${what}` : `CLEARED ${what} (active ${duration(n.at - n.since)})`;
}

/** The message's text: one notification, or several that the rate limit gathered. */
export function messageText(
  notifications: AlertNotification[],
  zone: string,
  format: Format = 'text',
): string {
  const at = (n: AlertNotification) => DateTime.fromSeconds(n.at, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
  const item = (n: AlertNotification) =>
    format === 'markdown'
      ? `**${headline(n)}** (${at(n)})\n\n> ${n.reason}`
      : `${headline(n)} (${at(n)})\n${n.reason}`;
  if (notifications.length === 1) {
    const [n] = notifications as [AlertNotification];
    return format === 'markdown' ? `### ${MESSAGE_TAG}\n\n${item(n)}` : `${MESSAGE_TAG}: ${item(n)}`;
  }
  const head = `${MESSAGE_TAG}: ${notifications.length} alert notifications, gathered by the rate limit`;
  return format === 'markdown'
    ? `### ${head}\n\n${notifications.map((n) => `- ${item(n).replace(/\n\n> /, ' — ')}`).join('\n')}`
    : `${head}\n\n${notifications.map(item).join('\n\n')}`;
}

/** The request body of a preset. */
export function messageBody(
  notifications: AlertNotification[],
  options: { preset: Preset; format: Format; zone: string },
): Record<string, unknown> {
  const { preset, format, zone } = options;
  if (preset === 'generic') {
    return {
      source: MESSAGE_TAG,
      text: messageText(notifications, zone),
      notifications: notifications.map((n) => ({ ...n, headline: headline(n) })),
    };
  }
  const content = cutToBytes(messageText(notifications, zone, format), LIMITS[preset][format]);
  if (format === 'text') return { msgtype: 'text', text: { content } };
  if (preset === 'wecom') return { msgtype: 'markdown', markdown: { content } };
  const [first] = notifications;
  return {
    msgtype: 'markdown',
    markdown: { title: notifications.length === 1 && first ? headline(first) : MESSAGE_TAG, text: content },
  };
}

/** DingTalk's signed URL: `timestamp` (ms) and `sign` added to the robot's address. */
export function dingTalkSignedUrl(url: string, secret: string, timestampMs: number): string {
  const sign = dingTalkSignature(secret, timestampMs);
  const sep = url.includes('?') ? '&' : '?';
  return `${url}${sep}timestamp=${timestampMs}&sign=${encodeURIComponent(sign)}`;
}

export function dingTalkSignature(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** Cut at a character boundary so the UTF-8 form fits in `bytes`, saying so. */
export function cutToBytes(text: string, bytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= bytes) return text;
  const note = '\n… (cut: see the status page)';
  let out = '';
  let used = Buffer.byteLength(note, 'utf8');
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (used + size > bytes) break;
    out += ch;
    used += size;
  }
  return out + note;
}
