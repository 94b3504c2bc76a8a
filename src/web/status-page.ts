/**
 * The status page at `/`: every source's StatusSnapshot rendered as one self-contained HTML
 * document (inline CSS and SVG, no script, no external resource), readable on a phone, refreshing
 * itself. One source alone reads as it always did; several get a summary, the sources not running
 * with their reason, and one section each (`data-testid="source" data-source="<name>"`). Every
 * number has a stable `data-testid` (unique within its source's section) and its raw API value in
 * `data-value`, so a browser test can compare the page with `/api/status`. Pure: the facts come in
 * already redacted; every text is HTML-escaped here.
 */
import type { StreamName } from '../config/index.js';
import type { GridCell } from '../pipeline/reconcile/nightly.js';
import type {
  FleetStatus,
  IdleSourceStatus,
  LotStatus,
  ReconcileGrid,
  SourceStatus,
  StatusSnapshot,
  StreamStatus,
} from '../pipeline/status-types.js';
import { renderDeliveriesChart } from './chart.js';
import { renderDaysChart } from './days-chart.js';
import { HEALTH_ALERTS_CSS, renderHealthAlerts } from './health-alerts.js';
import { escapeHtml } from './redaction.js';
import { formatDuration, formatEpoch, NONE, zoneLabel } from './time-format.js';

export interface StatusPageOptions {
  /**
   * The zone of the page's own times (when it was generated, when sources started); a source's
   * times are shown in its vendor's zone (`timeZone` of its snapshot).
   */
  timeZone: string;
  /** How the dashboard is protected; `none` puts a warning on the page. */
  auth: 'basic' | 'bearer' | 'none';
  readOnly: boolean;
  boardPath: string;
  /** Seconds between automatic reloads; 0 turns them off. */
  refreshSeconds?: number;
}

const STREAM_TITLES: Record<StreamName, string> = {
  parks: 'Parking lots',
  spotNums: 'Free-space counts',
  entrances: 'Entrances',
  departures: 'Departures',
};

/** Lag above this is shown as a warning. */
const LAG_WARN_SECONDS = 300;

export function renderStatusPage(fleet: FleetStatus, options: StatusPageOptions): string {
  const refresh = options.refreshSeconds ?? 10;
  // One source and none idle: the page as it was before sources existed, without a source heading.
  const only = fleet.sources.length === 1 && fleet.idle.length === 0 ? fleet.sources[0]!.status : null;
  const body = only ? singleSource(only, refresh) : everySource(fleet, options.timeZone, refresh);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refresh > 0 ? `<meta http-equiv="refresh" content="${refresh}">` : ''}
<link rel="icon" href="data:,">
<title>isp-park-sync status</title>
<style>${CSS}${HEALTH_ALERTS_CSS}</style>
</head>
<body>
<header>
  <h1>isp-park-sync</h1>
  <nav><a href="${escapeHtml(options.boardPath)}">Queues</a> · <a href="api/status">JSON</a> · <a href="metrics">Metrics</a></nav>
</header>
${notices(options)}
${body}
</body>
</html>
`;
}

function singleSource(snapshot: StatusSnapshot, refresh: number): string {
  const zone = snapshot.timeZone;
  return `${alerts(snapshot)}
${renderHealthAlerts(snapshot.healthAlerts, zone)}
<p class="muted">Times are shown in the vendor's zone, <strong data-testid="time-zone">${escapeHtml(zoneLabel(zone, snapshot.generatedAt))}</strong>.
Generated ${value('generated-at', snapshot.generatedAt, formatEpoch(snapshot.generatedAt, zone))}${refresh > 0 ? `; reloads every ${refresh} s` : ''}. Version ${escapeHtml(snapshot.version)}.</p>

${sourceFacts(snapshot)}`;
}

/**
 * Several sources (or one with others idle): a summary of the running ones, the ones not running
 * with their reason, then one section per running source headed by its name. Each section is the
 * single-source page's body, its headings one level down and its ids its own.
 */
function everySource(fleet: FleetStatus, zone: string, refresh: number): string {
  const sections = fleet.sources.map((source) => {
    const snapshot = source.status;
    const inner = snapshot
      ? `${alerts(snapshot)}
${renderHealthAlerts(snapshot.healthAlerts, snapshot.timeZone)}
<p class="muted">Times of ${escapeHtml(source.name)} are shown in its vendor's zone, <strong data-testid="time-zone">${escapeHtml(zoneLabel(snapshot.timeZone, snapshot.generatedAt))}</strong>.</p>

${sourceFacts(snapshot)}`
      : `<p class="notice" data-testid="source-error">Status of ${escapeHtml(source.name)} unavailable: ${escapeHtml(source.error ?? 'unknown error')}</p>`;
    return `<section class="source" id="${sourceAnchor(source.name)}" data-testid="source" data-source="${escapeHtml(source.name)}">
<h2 class="source-name">${escapeHtml(source.name)}</h2>
${ownIds(oneLevelDown(inner), source.name)}
</section>`;
  });
  return `<p class="muted">Generated ${value('generated-at', fleet.generatedAt, formatEpoch(fleet.generatedAt, zone))} ${escapeHtml(zoneLabel(zone, fleet.generatedAt))}${refresh > 0 ? `; reloads every ${refresh} s` : ''}. Version ${escapeHtml(fleet.version)}.</p>
${sourcesSummary(fleet.sources, zone)}
${idleSources(fleet.idle, zone)}
${sections.join('\n')}`;
}

/** The running sources at a glance, each linked to its section. */
function sourcesSummary(sources: SourceStatus[], zone: string): string {
  if (sources.length === 0)
    return '<p class="notice" data-testid="no-source">No source is running in this process: see the sources not running below, correct the config and reload.</p>';
  const rows = sources.map((source) => {
    const s = source.status;
    const name = escapeHtml(source.name);
    const cells = s
      ? (() => {
          const lags = s.streams.map((st) => st.lagSeconds).filter((l): l is number => l !== null);
          const lag = lags.length ? Math.max(...lags) : null;
          const sum = (pick: (st: StreamStatus) => number) => s.streams.reduce((n, st) => n + pick(st), 0);
          return `<td>${count('source-alerts', s.alerts.length + s.healthAlerts.length, true)}</td>
  <td>${count(
    'source-failed',
    sum((st) => st.failed),
    true,
  )}</td>
  <td>${count(
    'source-quarantined',
    sum((st) => st.quarantined),
    true,
  )}</td>
  <td${lag !== null && lag > LAG_WARN_SECONDS ? ' class="warn"' : ''}>${value('source-lag', lag, formatDuration(lag))}</td>
  <td>${count(
    'source-delivered-hour',
    sum((st) => st.delivered.lastHour),
  )}</td>`;
        })()
      : `<td colspan="5" class="bad">status unavailable</td>`;
    return `<tr data-testid="source-row" data-source="${name}">
  <th scope="row"><a href="#${sourceAnchor(source.name)}">${name}</a></th>
  <td>${value('source-started-at', source.startedAt, formatEpoch(source.startedAt, zone))}</td>
  ${cells}
</tr>`;
  });
  return `<h2>Sources (${sources.length})</h2>
<div class="scroll"><table data-testid="sources">
<thead><tr><th scope="col">Source</th><th scope="col">Running since</th><th scope="col">Alerts</th><th scope="col">Failed</th><th scope="col">Quarantined</th><th scope="col">Largest lag</th><th scope="col">Delivered, last hour</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

const IDLE_TEXT: Record<IdleSourceStatus['state'], string> = {
  removed: 'removed',
  refused: 'refused',
  invalid: 'config invalid',
};

/** Sources this process does not run: removed on purpose, refused, or with an invalid config. */
function idleSources(idle: IdleSourceStatus[], zone: string): string {
  if (idle.length === 0) return '';
  const items = idle.map(
    (
      s,
    ) => `<li class="notice${s.state === 'removed' ? ' info' : ''}" data-testid="idle-source" data-source="${escapeHtml(s.name)}" data-state="${s.state}">
  <strong>${escapeHtml(s.name)}</strong> ${IDLE_TEXT[s.state]} <span class="muted">since ${escapeHtml(formatEpoch(s.since, zone))}</span>
  <p class="wrap">${escapeHtml(s.reason)}</p>
</li>`,
  );
  return `<h2>Not running (${idle.length})</h2>
<ul class="health-alerts" data-testid="idle-sources">
${items.join('\n')}
</ul>`;
}

/** `source-north`: the section's anchor (source names are `[a-z0-9_-]`). */
function sourceAnchor(name: string): string {
  return `source-${escapeHtml(name)}`;
}

/**
 * A source's body inside its section: every heading one level down, under the source's name. Only
 * our own markup holds a `<h`: every text was escaped.
 */
function oneLevelDown(html: string): string {
  return html.replace(
    /<(\/?)h([1-5])(?=[\s>])/g,
    (_m, slash: string, level: string) => `<${slash}h${Number(level) + 1}`,
  );
}

/** The section's ids (chart titles) suffixed with the source, so each chart keeps its own label. */
function ownIds(html: string, source: string): string {
  const suffix = `-${escapeHtml(source)}`;
  return html.replace(
    /(\s)(id|aria-labelledby)="([^"]+)"/g,
    (_m, space: string, attr: string, id: string) => `${space}${attr}="${id}${suffix}"`,
  );
}

/** One source's cards, streams, charts, lots and reconcile grid. */
function sourceFacts(snapshot: StatusSnapshot): string {
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

function alerts(snapshot: StatusSnapshot): string {
  return snapshot.alerts
    .map((alert) => `<p class="notice" data-testid="alert">${escapeHtml(alert)}</p>`)
    .join('\n');
}

function notices(options: StatusPageOptions): string {
  const out: string[] = [];
  if (options.auth === 'none') {
    out.push(
      '<p class="notice" data-testid="no-auth-notice">No credentials are configured: this dashboard is served without authentication, on loopback only. Set WEB_USER and WEB_PASSWORD (or WEB_TOKEN) to protect it.</p>',
    );
  }
  if (options.readOnly) {
    out.push(
      '<p class="notice info" data-testid="read-only-notice">Read-only dashboard: retry and clean are switched off.</p>',
    );
  }
  return out.join('\n');
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
    <dt>Quarantined</dt><dd>${count(id('quarantined'), s.quarantined, true)}</dd>
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
function count(testId: string, n: number, alarm = false): string {
  const cls = alarm && n > 0 ? ' class="bad"' : '';
  return `<span data-testid="${testId}" data-value="${n}"${cls}>${n}</span>`;
}

/** A value shown formatted, with the raw API value (or '' for null) in data-value. */
function value(testId: string, raw: number | null | undefined, shown: string): string {
  return `<span data-testid="${testId}" data-value="${raw ?? ''}">${escapeHtml(shown)}</span>`;
}

function flag(testId: string, raw: boolean | null, shown: string): string {
  const cls = raw === false ? ' class="bad"' : raw ? ' class="good"' : '';
  return `<span data-testid="${testId}" data-value="${raw ?? ''}"${cls}>${shown}</span>`;
}

const CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#5c6570;--bg:#f6f7f9;--card:#fff;--line:#d8dde3;--bad:#b42318;--good:#067647;--warn:#b54708;--bar:#2e6fd8}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ed;--muted:#9aa4af;--bg:#14171b;--card:#1d2127;--line:#333a43;--bad:#f97066;--good:#47cd89;--warn:#fdb022;--bar:#6aa1ff}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:12px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:8px}
h1{font-size:1.4rem;margin:0}h2{font-size:1.1rem;margin:18px 0 8px}h3{font-size:1rem;margin:0 0 6px}
a{color:var(--bar)}
.muted{color:var(--muted);font-weight:normal}
.notice{border:1px solid var(--warn);color:var(--warn);padding:8px 10px;border-radius:6px}
.notice.info{border-color:var(--line);color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,380px),1fr));gap:10px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.card h2{margin-top:0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:3px 12px;margin:0}
dt{color:var(--muted)}dd{margin:0;font-variant-numeric:tabular-nums;min-width:0}
[data-value]{white-space:nowrap}
p.error{margin:8px 0 0;font-size:.9rem;max-height:9em;overflow:auto}
.bad{color:var(--bad);font-weight:600}.good{color:var(--good)}.warn{color:var(--warn);font-weight:600}
.error{color:var(--bad)}.wrap{overflow-wrap:anywhere}
.chart{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px}
.chart svg{width:100%;height:auto;display:block}
.chart .bar{fill:var(--bar)}.chart .axis{stroke:var(--muted)}.chart .grid{stroke:var(--line);stroke-dasharray:4 4}
.chart .label{fill:var(--muted);font-size:13px}
.chart .pct-line{fill:none;stroke:var(--good);stroke-width:2}.chart .pct-dot{fill:var(--good)}.chart .pct-dot.short{fill:var(--bad)}
figcaption{color:var(--muted);font-size:.9rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);white-space:nowrap;font-variant-numeric:tabular-nums}
thead th{color:var(--muted);font-weight:600}
.grid td{text-align:center}
.rc-complete{color:var(--good)}.rc-provisional{color:var(--muted)}
.rc-quarantined,.rc-failed{color:var(--warn);font-weight:600}.rc-missing{color:var(--bad);font-weight:600}
section.source{border-top:3px solid var(--line);margin-top:24px}
h2.source-name{font-size:1.35rem;margin:12px 0 6px}
section.source h3{font-size:1.1rem;margin:18px 0 8px}section.source .card h3{margin-top:0}
section.source h4{font-size:1rem;margin:0 0 6px}
`;
