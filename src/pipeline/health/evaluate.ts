/**
 * One evaluation of the lot health alerts, with its I/O passed in (facts.ts wires it to a Runtime;
 * jobs/health.ts runs it as a singleton job): read the facts, apply the rules, fire and clear
 * against the alerts active in Redis, queue a notification per change, then send what waits to the
 * webhook within the rate limit. A message the webhook does not take stays queued for the next
 * evaluation (nothing is lost to a webhook outage or the rate limit): when more messages are due
 * than the window allows, the window's last message carries all of them.
 */
import type { Logger } from '../../log.js';
import { alertNotifications, alertsFired, showActiveAlerts } from '../../metrics.js';
import type { ActiveAlert, AlertNotification } from '../../state/lot-health.js';
import { type AlertSettings, evaluateRules, type HealthFacts } from './rules.js';
import { transitions } from './transitions.js';
import type { SendNotifications } from './webhook.js';

/** Most notifications one gathered message carries (the rest wait for the next window). */
export const MAX_GATHERED = 50;

export interface HealthDeps {
  /** The source whose lots are judged (config.source.name): the `source` label of the alert metrics. */
  source: string;
  settings: AlertSettings;
  logger: Logger;
  facts(nowMs: number): Promise<HealthFacts>;
  active(): Promise<Map<string, ActiveAlert>>;
  commit(active: ActiveAlert[], removed: string[], notifications: AlertNotification[]): Promise<void>;
  outbox(): Promise<AlertNotification[]>;
  shiftOutbox(count: number): Promise<void>;
  sentInWindow(index: number): Promise<number>;
  countSent(index: number, ttlSeconds: number): Promise<void>;
  /** Undefined: no webhook configured (alerts show on the status page and in metrics only). */
  send: SendNotifications | undefined;
}

export interface HealthRun {
  active: ActiveAlert[];
  fired: ActiveAlert[];
  cleared: ActiveAlert[];
  /** Webhook messages sent in this run, and notifications still waiting after it. */
  messagesSent: number;
  waiting: number;
}

export async function evaluateHealth(deps: HealthDeps, nowMs = Date.now()): Promise<HealthRun> {
  const now = Math.floor(nowMs / 1000);
  const facts = await deps.facts(nowMs);
  const change = transitions(await deps.active(), evaluateRules(facts, deps.settings), now);
  await deps.commit(change.active, change.removed, deps.send ? change.notifications : []);
  for (const a of change.fired) {
    alertsFired.inc({ source: deps.source, alert: a.alert });
    deps.logger.warn({ alert: a.alert, lot: a.lot, stream: a.stream, reason: a.reason }, 'alert fired');
  }
  for (const a of change.cleared)
    deps.logger.info({ alert: a.alert, lot: a.lot, stream: a.stream }, 'alert cleared');
  showActiveAlerts(deps.source, change.active);
  const { sent, waiting } = deps.send ? await drainOutbox(deps, deps.send, now) : { sent: 0, waiting: 0 };
  return { active: change.active, fired: change.fired, cleared: change.cleared, messagesSent: sent, waiting };
}

/** Sends queued notifications, oldest first, within the rate limit; stops at the first failure. */
async function drainOutbox(
  deps: HealthDeps,
  send: SendNotifications,
  now: number,
): Promise<{ sent: number; waiting: number }> {
  const { maxMessages, windowSeconds } = deps.settings.rateLimit;
  const giveUpBefore = now - deps.settings.webhook.giveUpAfterSeconds;
  let queue = await deps.outbox();
  const stale = queue.findIndex((n) => n.at >= giveUpBefore);
  const givenUp = stale === -1 ? queue.length : stale;
  if (givenUp > 0) {
    await deps.shiftOutbox(givenUp);
    alertNotifications.inc({ source: deps.source, result: 'given_up' }, givenUp);
    deps.logger.warn(
      { notifications: queue.slice(0, givenUp).map((n) => `${n.event} ${n.alert} ${n.lot || n.stream}`) },
      `alert notifications given up: not delivered to the webhook within ${deps.settings.webhook.giveUpAfterSeconds} s`,
    );
    queue = queue.slice(givenUp);
  }
  const index = Math.floor(now / windowSeconds);
  let budget = maxMessages - (await deps.sentInWindow(index));
  let sent = 0;
  while (queue.length > 0 && budget > 0) {
    // The window's last message carries everything due, so nothing waits a whole window more.
    const batch = budget === 1 ? queue.slice(0, MAX_GATHERED) : queue.slice(0, 1);
    try {
      await send(batch);
    } catch (error) {
      alertNotifications.inc({ source: deps.source, result: 'failed' });
      deps.logger.warn(
        { err: (error as Error).message, waiting: queue.length },
        'alert webhook failed; the notifications wait for the next evaluation',
      );
      break;
    }
    await deps.shiftOutbox(batch.length);
    await deps.countSent(index, windowSeconds * 2);
    alertNotifications.inc({ source: deps.source, result: 'sent' });
    queue = queue.slice(batch.length);
    budget--;
    sent++;
  }
  return { sent, waiting: queue.length };
}
