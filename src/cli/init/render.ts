/**
 * Writes a draft mapping as a config layer file (the shape of config/presets/*.yaml): every guess
 * with its evidence as a YAML comment, every open question as `# TODO confirm: ...`. Pure: the
 * draft in, the text out.
 */
import { CAR_TYPES, PAY_TYPES } from '../../isp-spec/index.js';
import type { DictionaryDraft, Draft, DraftStream, Guess } from './draft.js';

export const CONFIRM = 'TODO confirm:';

/** A YAML scalar: plain when that is safe, double-quoted (JSON) otherwise. */
function scalar(value: string): string {
  return /^[A-Za-z_][\w.]*$/.test(value) && !/^(true|false|null|yes|no|on|off)$/i.test(value)
    ? value
    : JSON.stringify(value);
}

function comment(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function line(indent: number, key: string, g: Guess): string {
  const why = g.confirm ? `${CONFIRM} ${comment(g.confirm)} (${comment(g.why)})` : comment(g.why);
  return `${'  '.repeat(indent)}${key}: ${scalar(g.value)}  # ${why}`;
}

const STREAM_ORDER = ['parks', 'spotNums', 'entrances', 'departures'] as const;

export function renderDraft(draft: Draft, meta: { command: string; writtenAt: string }): string {
  const out: string[] = [
    `# Draft mapping of the vendor database ${draft.database}, written by \`${meta.command}\` on ${meta.writtenAt}.`,
    '# Each value says in its comment why it was chosen; every open question is marked',
    '# "TODO confirm". Answer them, then: isp-park-sync -c <this file> check, and dry-run <stream>.',
    '# Nothing here is a secret: VENDOR_DB_URL and the ISP credentials come from the environment.',
  ];
  for (const open of draft.open) out.push(`# ${CONFIRM} ${comment(open)}`);
  for (const note of draft.notes) out.push(`# note: ${comment(note)}`);
  out.push(
    '',
    'vendor:',
    `  timeZone: ${scalar(draft.zone)}  # the zone the vendor writes its times in (--zone)`,
  );
  if (draft.photo?.urlAllowHosts) {
    out.push('', 'photo:');
    const g = draft.photo.urlAllowHosts;
    const why = g.confirm ? `${CONFIRM} ${g.confirm} (${g.why})` : g.why;
    out.push(`  urlAllowHosts: ${g.value}  # ${comment(why)}`);
  }
  out.push('', 'streams:');
  for (const name of STREAM_ORDER) {
    const stream = draft.streams[name];
    if (stream) out.push(...renderStream(name, stream));
  }
  out.push('', 'dictionaries:');
  out.push(...renderDictionary('carType', draft.dictionaries.carType, CAR_TYPES));
  out.push(...renderDictionary('payType', draft.dictionaries.payType, PAY_TYPES));
  return `${out.join('\n')}\n`;
}

function renderStream(name: string, s: DraftStream): string[] {
  const out = [`  ${name}:`, `    # ${comment(s.why)}`, line(2, 'from', s.from)];
  if (s.cursor) out.push('    cursor:', line(3, 'time', s.cursor.time), line(3, 'id', s.cursor.id));
  if (s.timeFormat) out.push(line(2, 'timeFormat', s.timeFormat));
  out.push('    columns:');
  for (const [field, g] of Object.entries(s.columns)) out.push(line(3, field, g));
  if (s.photo) out.push('    photo:', line(3, 'column', s.photo.column), line(3, 'source', s.photo.source));
  for (const [key, g] of Object.entries(s.settings)) out.push(line(2, key, g));
  return out;
}

function renderDictionary(name: string, d: DictionaryDraft, labels: Record<string, string>): string[] {
  if (!d.column) return [`  ${name}: {}  # no column found for it: the default code is sent`];
  const out = [`  ${name}:`];
  out.push(`    # values of ${d.column} in the ${d.sampled} newest rows, with how often each occurs`);
  const mapped = d.entries.filter((e) => !e.known);
  for (const e of d.entries.filter((e) => e.known)) {
    out.push(
      `    # ${e.value} (${e.count}/${d.sampled}) -> ${e.code} ${labels[e.code!] ?? ''}: already in config/default.yaml`,
    );
  }
  const codes = Object.entries(labels)
    .map(([code, label]) => `${code} ${label}`)
    .join(', ');
  for (const e of mapped.filter((e) => !e.code)) {
    out.push(
      `    # ${CONFIRM} ${JSON.stringify(e.value)} (${e.count}/${d.sampled} rows): ${comment(e.why)}; add it to map with one of ${codes}`,
    );
  }
  const coded = mapped.filter((e) => e.code);
  // An empty map keeps config/default.yaml's words (layers are merged key by key).
  out.push(coded.length ? '    map:' : '    map: {}');
  for (const e of coded) {
    out.push(
      `      ${JSON.stringify(e.value)}: ${JSON.stringify(e.code)}  # ${CONFIRM} ${comment(`${e.why} -> ${e.code} ${labels[e.code!] ?? ''}`)} (${e.count}/${d.sampled} rows)`,
    );
  }
  return out;
}
