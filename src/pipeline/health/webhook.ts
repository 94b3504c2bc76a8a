/**
 * Sends alert notifications to the configured webhook (undici): one POST per message, the body of
 * its preset, DingTalk's signature when a secret is set. A message counts as sent only on a 2xx
 * answer and, for the WeCom and DingTalk robots, `errcode` 0 (they answer 200 to a refused message).
 * The webhook address holds the robot's token: no error message names it or the secret.
 */
import { request } from 'undici';
import type { Config } from '../../config/index.js';
import type { AlertNotification } from '../../state/lot-health.js';
import { dingTalkSignedUrl, messageBody } from './messages.js';

export class WebhookError extends Error {}

export type SendNotifications = (notifications: AlertNotification[]) => Promise<void>;

/** The sender of config.alerts.webhook, or undefined when no webhook is set. */
export function webhookSender(
  webhook: Config['alerts']['webhook'],
  zone: string,
  now: () => number = Date.now,
): SendNotifications | undefined {
  const { url, preset, format, secret, timeoutMs } = webhook;
  if (!url) return undefined;
  const hide = hider([url, secret, ...queryValues(url)]);
  return async (notifications) => {
    const target = preset === 'dingtalk' && secret ? dingTalkSignedUrl(url, secret, now()) : url;
    const body = JSON.stringify(messageBody(notifications, { preset, format, zone }));
    let status: number;
    let text: string;
    try {
      const res = await request(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (error) {
      throw new WebhookError(`alert webhook did not answer: ${hide((error as Error).message)}`);
    }
    if (status < 200 || status >= 300)
      throw new WebhookError(`alert webhook answered HTTP ${status}: ${hide(text.slice(0, 200))}`);
    if (preset !== 'generic') {
      let answer: { errcode?: number; errmsg?: string } = {};
      try {
        answer = JSON.parse(text) as typeof answer;
      } catch {
        throw new WebhookError(
          `alert webhook (${preset}) answered something that is not JSON: ${hide(text.slice(0, 200))}`,
        );
      }
      if (answer.errcode !== 0)
        throw new WebhookError(
          `alert webhook (${preset}) refused the message: errcode ${answer.errcode}, ${hide(String(answer.errmsg ?? ''))}`,
        );
    }
  };
}

function queryValues(url: string): string[] {
  try {
    return [...new URL(url).searchParams.values()];
  } catch {
    return [];
  }
}

/** Replaces every secret piece in a message (longest first). */
function hider(secrets: Array<string | undefined>): (text: string) => string {
  const pieces = secrets.filter((s): s is string => !!s && s.length >= 4).sort((a, b) => b.length - a.length);
  return (text) => pieces.reduce((t, p) => t.split(p).join('***'), text);
}
