/**
 * What changed since the last evaluation, pure: an alert that holds now and was not active fires
 * (one notification), one that was active and holds no more clears (one notification), one that
 * still holds only has its sentence refreshed (no notification). The active set is kept in Redis,
 * so a restarted or another worker does not fire again what already fired.
 */
import type { ActiveAlert, AlertNotification } from '../../state/lot-health.js';
import { type Alert, alertId } from './rules.js';

export interface Transitions {
  /** The alerts active after this evaluation. */
  active: ActiveAlert[];
  /** Ids of alerts no longer active. */
  removed: string[];
  fired: ActiveAlert[];
  cleared: ActiveAlert[];
  notifications: AlertNotification[];
}

export function transitions(
  previous: ReadonlyMap<string, ActiveAlert>,
  current: Alert[],
  now: number,
): Transitions {
  const active: ActiveAlert[] = [];
  const fired: ActiveAlert[] = [];
  const seen = new Set<string>();
  for (const alert of current) {
    const id = alertId(alert);
    if (seen.has(id)) continue;
    seen.add(id);
    const before = previous.get(id);
    const next: ActiveAlert = { id, ...alert, since: before?.since ?? now };
    active.push(next);
    if (!before) fired.push(next);
  }
  const cleared = [...previous.values()].filter((a) => !seen.has(a.id));
  const notifications: AlertNotification[] = [
    ...fired.map((a) => notification(a, 'fired', now)),
    ...cleared.map((a) => notification(a, 'cleared', now)),
  ];
  return { active, removed: cleared.map((a) => a.id), fired, cleared, notifications };
}

function notification(a: ActiveAlert, event: AlertNotification['event'], at: number): AlertNotification {
  return { event, alert: a.alert, lot: a.lot, stream: a.stream, reason: a.reason, since: a.since, at };
}
