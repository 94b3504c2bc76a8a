/**
 * One source's part of the status page: its facts (ISP, streams, lots, alerts, recent days, the
 * reconcile grid), each number with a stable `data-testid` and its raw value in `data-value`.
 * Pure: the facts come in already redacted; every text is HTML-escaped here.
 */
import type { StreamName } from '../config/index.js';
import type { GridCell } from '../pipeline/reconcile/nightly.js';
import type { LotStatus, ReconcileGrid, StatusSnapshot, StreamStatus } from '../pipeline/status-types.js';
import { renderDeliveriesChart } from './chart.js';
import { renderDaysChart } from './days-chart.js';
import { escapeHtml } from './redaction.js';
import { formatDuration, formatEpoch, NONE } from './time-format.js';

const STREAM_TITLES: Record<StreamName, string> = {
  parks: 'Parking lots',
  spotNums: 'Free-space counts',
  entrances: 'Entrances',
  departures: 'Departures',
};

/** Lag above this is shown as a warning. */
export const LAG_WARN_SECONDS = 300;

/** One source's cards, streams, charts, lots and reconcile grid. */
export function sourceFacts(snapshot: StatusSnapshot): string {
  const zone = snapshot.timeZone;
  const sum = (pick: (s: StreamStatus) => number) => snapshot.streams.reduce((n, s) => n + pick(s), 0);
  const chartTotal = snapshot.deliveredPerMinute.reduce((n, p) => n + p.count, 0);
  return `<section class="cards">
${ispCard(snapshot, zone)}
<div class="card">
  <h2>Totals</h2>
  <dl>
    <dt>Delivered, last hour</dt><dd>${count(
      'delivered-hour-total',
      sum((s) => s.delivered.lastHour),
    )}</dd>
    <dt>Delivered, last 24 h</dt><dd>${count(
      'delivered-day-total',
      sum((s) => s.delivered.lastDay),
    )}</dd>
    <dt>Failed</dt><dd>${count(
      'failed-total',
      sum((s) => s.failed),
      true,
    )}</dd>
    <dt>Quarantined</dt><dd>${count(
      'quarantined-total',
      sum((s) => s.quarantined),
      true,
    )}</dd>
    <dt>Next full sync</dt><dd>${value('next-full-sync', snapshot.nextFullSync, formatEpoch(snapshot.nextFullSync, zone))}</dd>
  </dl>
</div>
</section>

<h2>Streams</h2>
<section class="cards">
${snapshot.streams.map((s) => streamCard(s, zone)).join('\n')}
</section>

<h2>Delivered per minute, last ${snapshot.chartHours} h</h2>
<figure class="chart">
${renderDeliveriesChart(snapshot.deliveredPerMinute, zone)}
<figcaption>All streams; ${count('chart-total', chartTotal)} records in the chart window.</figcaption>
</figure>

${recentDaysSection(snapshot)}

<h2>Lots (${snapshot.lots.length})</h2>
${lotsTable(snapshot.lots, zone)}

<h2>Reconciliation, nightly</h2>
${reconcileGrid(snapshot.reconcile, zone)}`;
}

/** The last days: volume per day and the nightly reconcile's completeness (`report` has the detail). */
function recentDaysSection(snapshot: StatusSnapshot): string {
  const days = snapshot.recentDays ?? [];
  const checked = days.filter((d) => d.completeness !== null);
  const lowest = checked.length ? Math.min(...checked.map((d) => d.completeness!)) : null;
  return `<h2>Delivered per day, last ${days.length} days</h2>
<figure class="chart">
${renderDaysChart(days)}
<figcaption>Entrances and departures per day of their event time (bars); completeness from the nightly reconcile (line, ${count('days-checked', checked.length)} of ${days.length} days checked${
    lowest === null ? '' : `, lowest ${value('days-lowest-completeness', lowest, `${lowest}%`)}`
  }). Per lot: <code>isp-park-sync report --date yyyy-MM-dd</code>.</figcaption>
</figure>`;
}

export function alerts(snapshot: StatusSnapshot): string {
  return snapshot.alerts
    .map((alert) => `<p class="notice" data-testid="alert">${escapeHtml(alert)}</p>`)
    .join('\n');
}

function ispCard(snapshot: StatusSnapshot, zone: string): string {
  const { isp } = snapshot;
  const reachable = isp.reachable === null ? 'unknown' : isp.reachable ? 'yes' : 'NO';
  const tokenValid = isp.token.valid ? `yes, expires in ${formatDuration(isp.token.expiresInSeconds)}` : 'NO';
  return `<div class="card">
  <h2>ISP</h2>
  <dl>
    <dt>Address</dt><dd class="wrap">${escapeHtml(isp.baseUrl)}</dd>
    <dt>Reachable</dt><dd>${flag('isp-reachable', isp.reachable, reachable)}</dd>
    <dt>Token valid</dt><dd>${flag('isp-token-valid', isp.token.valid, tokenValid)}</dd>
    <dt>Token expires</dt><dd>${value('isp-token-expires', isp.token.expiresAt, formatEpoch(isp.token.expiresAt, zone))}</dd>${
      isp.token.error
        ? `\n    <dt>Token error</dt><dd class="wrap" data-testid="isp-token-error">${escapeHtml(formatEpoch(isp.token.error.at, zone))}: ${escapeHtml(isp.token.error.message)}</dd>`
        : ''
    }
  </dl>
</div>`;
}

function streamCard(s: StreamStatus, zone: string): string {
  const id = (name: string) => `${name}-${s.stream}`;
  const lagClass = s.lagSeconds !== null && s.lagSeconds > LAG_WARN_SECONDS ? ' class="warn"' : '';
  const checkpoint = s.checkpoint
    ? `<span data-testid="${id('checkpoint')}" data-value="${escapeHtml(s.checkpoint.time)}">${escapeHtml(s.checkpoint.time)}</span> <span class="muted">id ${escapeHtml(s.checkpoint.id)}</span>`
    : `<span data-testid="${id('checkpoint')}" data-value="">${NONE}</span>`;
  const lastError = s.lastError
    ? `<span data-testid="${id('last-error')}" data-value="${s.lastError.at}">${escapeHtml(formatEpoch(s.lastError.at, zone))}</span>`
    : `<span data-testid="${id('last-error')}" data-value="">none</span>`;
  const recovered =
    s.lastError && s.lastError.recoveredAt !== null
      ? ` <span class="muted" data-testid="${id('recovered')}" data-value="${s.lastError.recoveredAt}">recovered at ${escapeHtml(formatEpoch(s.lastError.recoveredAt, zone))}</span>`
      : '';
  const errorText = s.lastError
    ? `\n  <p class="${s.lastError.recoveredAt !== null ? 'muted' : 'error'} wrap" data-testid="${id('last-error-message')}">${escapeHtml(s.lastError.message)}</p>`
    : '';
  return `<div class="card" data-testid="stream-${s.stream}">
  <h3>${escapeHtml(STREAM_TITLES[s.stream] ?? s.stream)} <span class="muted">${escapeHtml(s.stream)}</span></h3>
  <dl>
    <dt>Checkpoint</dt><dd>${checkpoint}</dd>
    <dt>Read up to</dt><dd>${value(id('read-up-to'), s.readUpTo, formatEpoch(s.readUpTo, zone))}</dd>
    <dt>Lag</dt><dd${lagClass}>${value(id('lag'), s.lagSeconds, formatDuration(s.lagSeconds))}</dd>
    <dt>Delivered, last hour</dt><dd>${count(id('delivered-hour'), s.delivered.lastHour)}</dd>
    <dt>Delivered, last 24 h</dt><dd>${count(id('delivered-day'), s.delivered.lastDay)}</dd>
    <dt>Queued</dt><dd>${count(id('waiting'), s.push.waiting)} waiting · ${count(id('active'), s.push.active)} active · ${count(id('delayed'), s.push.delayed)} delayed</dd>
    <dt>Failed</dt><dd>${count(id('failed'), s.failed, true)}</dd>
    <dt>Quarantined</dt><dd>${count(id('quarantined'), s.quarantined, true)}</dd>${
      s.idGaps
        ? `\n    <dt>Id gaps open</dt><dd>${count(id('id-gaps'), s.idGaps.open)}${s.idGaps.oldestSeconds !== null ? ` <span class="muted">oldest ${value(id('id-gaps-oldest'), s.idGaps.oldestSeconds, formatDuration(s.idGaps.oldestSeconds))}</span>` : ''}</dd>`
        : ''
    }
    <dt>Delivered, all time</dt><dd>${count(id('delivered-total'), s.delivered.total)}</dd>
    <dt>Last error</dt><dd>${lastError}${recovered}</dd>
  </dl>${errorText}
</div>`;
}

function lotsTable(lots: LotStatus[], zone: string): string {
  if (lots.length === 0)
    return '<p class="muted" data-testid="no-lots">Nothing delivered for any lot yet.</p>';
  const rows = lots.map((lot) => {
    const spot = lot.lastSpotNum;
    return `<tr data-testid="lot" data-park-code="${escapeHtml(lot.parkCode)}">
  <th scope="row">${escapeHtml(lot.parkCode)}</th>
  <td>${value('lot-last-entrance', lot.lastEntrance, formatEpoch(lot.lastEntrance, zone))}</td>
  <td>${value('lot-last-departure', lot.lastDeparture, formatEpoch(lot.lastDeparture, zone))}</td>
  <td>${spot ? `${count('lot-remain', spot.remain)} / ${count('lot-total', spot.total)} <span class="muted">(${count('lot-used', spot.used)} used)</span>` : `<span data-testid="lot-remain" data-value="">${NONE}</span>`}</td>
  <td>${value('lot-spot-at', spot?.at ?? null, formatEpoch(spot?.at ?? null, zone))}</td>
</tr>`;
  });
  return `<div class="scroll"><table>
<thead><tr><th scope="col">Lot</th><th scope="col">Last entrance</th><th scope="col">Last departure</th><th scope="col">Free / total</th><th scope="col">Count sent at</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

const VERDICT_TEXT: Record<GridCell['verdict'], (c: GridCell) => string> = {
  complete: () => '✓',
  provisional: () => '…',
  quarantined: (c) => `${c.quarantined} quar.`,
  failed: (c) => `${c.failed} failed`,
  missing: (c) => `${c.missing} missing`,
};

/** Lots × days of the nightly reconciles: complete, missing, quarantined, failed per cell. */
function reconcileGrid(grid: ReconcileGrid | undefined, zone: string): string {
  if (!grid || grid.days.length === 0)
    return '<p class="muted" data-testid="no-reconcile">No nightly reconcile yet: it runs after the nightly full sync (`isp-park-sync reconcile` runs one now).</p>';
  const latest = grid.latest!;
  const missing = latest.missingByStream.entrances + latest.missingByStream.departures;
  const summary = `<p class="wrap" data-testid="reconcile-latest" data-day="${escapeHtml(latest.day)}" data-value="${missing}">Last night, ${escapeHtml(latest.day)} (checked ${escapeHtml(formatEpoch(Math.floor(latest.checkedAt / 1000), zone))}): ${
    latest.complete
      ? '<span class="good">complete</span>'
      : `<span class="bad">${latest.missingByStream.entrances} entrances and ${latest.missingByStream.departures} departures missing</span> — <code>isp-park-sync reconcile --date ${escapeHtml(latest.day)} --repair</code>`
  }${latest.repaired !== undefined ? `; ${latest.repaired} enqueued by the nightly repair` : ''}.</p>`;
  const head = grid.days.map((d) => `<th scope="col">${escapeHtml(d.slice(5))}</th>`).join('');
  const rows = grid.lots.map(
    (lot) =>
      `<tr data-testid="reconcile-lot" data-park-code="${escapeHtml(lot.parkCode)}"><th scope="row">${escapeHtml(lot.parkCode)}</th>${lot.cells
        .map((cell, i) => {
          const day = escapeHtml(grid.days[i]!);
          if (!cell) return `<td data-testid="reconcile-cell" data-day="${day}" data-verdict="">${NONE}</td>`;
          const title = `${cell.recorded} recorded, ${cell.delivered} delivered, ${cell.quarantined} quarantined, ${cell.failed} failed, ${cell.missing} missing`;
          return `<td class="rc-${cell.verdict}" data-testid="reconcile-cell" data-day="${day}" data-verdict="${cell.verdict}" data-value="${cell.missing}" title="${escapeHtml(title)}">${escapeHtml(VERDICT_TEXT[cell.verdict](cell))}</td>`;
        })
        .join('')}</tr>`,
  );
  return `${summary}
<div class="scroll"><table class="grid" data-testid="reconcile-grid">
<thead><tr><th scope="col">Lot</th>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

/** A count: the number as text, and as data-value. `alarm` marks a non-zero count red. */
export function count(testId: string, n: number, alarm = false): string {
  const cls = alarm && n > 0 ? ' class="bad"' : '';
  return `<span data-testid="${testId}" data-value="${n}"${cls}>${n}</span>`;
}

/** A value shown formatted, with the raw API value (or '' for null) in data-value. */
export function value(testId: string, raw: number | null | undefined, shown: string): string {
  return `<span data-testid="${testId}" data-value="${raw ?? ''}">${escapeHtml(shown)}</span>`;
}

export function flag(testId: string, raw: boolean | null, shown: string): string {
  const cls = raw === false ? ' class="bad"' : raw ? ' class="good"' : '';
  return `<span data-testid="${testId}" data-value="${raw ?? ''}"${cls}>${shown}</span>`;
}
