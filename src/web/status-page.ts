import type {
  FleetStatus,
  IdleSourceStatus,
  SourceStatus,
  StatusSnapshot,
  StreamStatus,
} from '../pipeline/status-types.js';
import { HEALTH_ALERTS_CSS, renderHealthAlerts } from './health-alerts.js';
import { escapeHtml } from './redaction.js';
import { alerts, count, LAG_WARN_SECONDS, sourceFacts, value } from './status-source.js';
import { formatDuration, formatEpoch, zoneLabel } from './time-format.js';

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
