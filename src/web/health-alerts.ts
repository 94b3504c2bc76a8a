/**
 * The status page's section of lot health alerts (src/pipeline/health/): one line per active alert,
 * what it is about, since when and the operator's sentence. Pure, HTML-escaped here; kept apart from
 * status-page.ts so the page's other sections change without touching it.
 */
import type { HealthAlertStatus } from '../pipeline/status-types.js';
import { escapeHtml } from './redaction.js';
import { formatEpoch } from './time-format.js';

export function renderHealthAlerts(alerts: readonly HealthAlertStatus[], zone: string): string {
  if (alerts.length === 0) return '';
  const items = alerts.map((a) => {
    const subject = [a.lot && `lot ${a.lot}`, a.stream && `stream ${a.stream}`].filter(Boolean).join(', ');
    return `<li class="notice" data-testid="health-alert" data-alert="${escapeHtml(a.alert)}" data-lot="${escapeHtml(a.lot)}" data-stream="${escapeHtml(a.stream)}" data-since="${a.since}">
  <strong>${escapeHtml(a.alert)}</strong>${subject ? ` <span>${escapeHtml(subject)}</span>` : ''} <span class="muted">since ${escapeHtml(formatEpoch(a.since, zone))}</span>
  <p class="wrap">${escapeHtml(a.reason)}</p>
</li>`;
  });
  return `<section data-testid="health-alerts">
<h2>Lot health alerts (${alerts.length})</h2>
<ul class="health-alerts">
${items.join('\n')}
</ul>
</section>`;
}

/**
 * Its style, added to the page's. The item carries `data-since`, not the page's `data-value`: that
 * one keeps a figure on one line, and an alert's sentence must wrap on a phone.
 */
export const HEALTH_ALERTS_CSS = `
.health-alerts{list-style:none;padding:0;margin:0;display:grid;grid-template-columns:minmax(0,1fr);gap:6px}
.health-alerts p{margin:4px 0 0}
`;
