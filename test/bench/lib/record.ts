/**
 * The benchmark record kept in the repository, so a reader sees figures without running anything:
 * docs/benchmarks/results.json (every figure with its runs, the command, the commit and the
 * machine of the run that measured it) and the generated part of docs/benchmarks.md (between
 * RECORD_START and RECORD_END; the prose around it is written by hand).
 *
 * A full run (`npm run bench`) replaces the record; a full run of some groups with `--record`
 * (`npm run bench -- --only photos --record`) replaces only the figures it measured, and the
 * record then names each figure's run. A quick run never writes it. Pure except `writeRecord`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Result, type ResultsFile, table } from './report.js';

export const RECORD_START =
  '<!-- bench-record:start (written by `npm run bench`; edit the prose outside) -->';
export const RECORD_END = '<!-- bench-record:end -->';

/** One bench run the record holds figures of. */
export interface RecordRun {
  command: string;
  startedAt: string;
  durationSeconds: number;
  machine: Record<string, unknown>;
  versions: Record<string, string>;
  notes: string[];
}

export interface BenchRecord {
  runs: RecordRun[];
  /** Each figure with the index of its run in `runs`. */
  results: Array<Result & { run: number }>;
}

function runOf(file: ResultsFile): RecordRun {
  return {
    command: file.command,
    startedAt: file.startedAt,
    durationSeconds: file.durationSeconds,
    machine: file.machine,
    versions: file.versions,
    notes: file.notes,
  };
}

/**
 * The record after `file`: `file` alone when it replaces the record, else `previous` with the
 * figures `file` measured replaced (in place, new ones appended) and runs no figure refers to any
 * more dropped.
 */
export function mergeRecord(
  previous: BenchRecord | undefined,
  file: ResultsFile,
  replace: boolean,
): BenchRecord {
  if (replace || !previous)
    return { runs: [runOf(file)], results: file.results.map((r) => ({ ...r, run: 0 })) };
  const runs = [...previous.runs, runOf(file)];
  const newRun = runs.length - 1;
  const fresh = new Map(file.results.map((r) => [r.id, r]));
  const results = previous.results.map((r) => {
    const now = fresh.get(r.id);
    if (!now) return r;
    fresh.delete(r.id);
    return { ...now, run: newRun };
  });
  for (const r of fresh.values()) results.push({ ...r, run: newRun });
  // Renumber: keep only runs still referred to, in their order.
  const used = [...new Set(results.map((r) => r.run))].sort((a, b) => a - b);
  const index = new Map(used.map((old, i) => [old, i]));
  return {
    runs: used.map((i) => runs[i]!),
    results: results.map((r) => ({ ...r, run: index.get(r.run)! })),
  };
}

function fmt(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en');
}

function runLine(run: RecordRun, label: string): string {
  const m = run.machine;
  const v = run.versions;
  return (
    `${label}${run.startedAt.slice(0, 16).replace('T', ' ')} UTC, \`${run.command}\` (${Math.round(run.durationSeconds)} s), ` +
    `commit ${v['isp-park-sync'] ?? '?'}: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, ${m.os}; ` +
    `Node ${v.node}, MariaDB ${v.mariadb}, Redis ${v.redis}; load average ${m.loadStart} at the start, ${m.loadEnd} at the end.`
  );
}

/** The generated part of docs/benchmarks.md: the runs, then one table of every figure. */
export function recordMarkdown(record: BenchRecord): string {
  const several = record.runs.length > 1;
  const lines = record.runs.map((run, i) => `- ${runLine(run, several ? `run ${i + 1}: ` : '')}`);
  const rows = record.results.map((r) => [
    `\`${r.id}\``,
    `${fmt(r.value)} ${r.unit}`,
    `${fmt(r.min)}–${fmt(r.max)}`,
    String(r.n),
    r.ceiling ? `${fmt(r.ceiling.value)} ${r.ceiling.unit} (${r.ceiling.id})` : '–',
    fmt(r.ratio),
    r.target?.text ?? '–',
    r.met === null ? '–' : r.met ? 'yes' : '**no**',
    ...(several ? [String(r.run + 1)] : []),
  ]);
  const head = ['id', 'value (median)', 'min–max', 'n', 'ceiling', 'ratio', 'target', 'met'];
  const align = ['left', 'right', 'right', 'right', 'left', 'right', 'left', 'center'] as const;
  lines.push(
    '',
    ...table(several ? [...head, 'run'] : head, several ? [...align, 'right'] : [...align], rows),
  );
  return lines.join('\n');
}

/** `doc` with the text between the record markers replaced (markers appended when missing). */
export function spliceRecord(doc: string, generated: string): string {
  const block = `${RECORD_START}\n\n${generated}\n\n${RECORD_END}`;
  const start = doc.indexOf(RECORD_START);
  const end = doc.indexOf(RECORD_END);
  if (start === -1 || end === -1 || end < start) return `${doc.trimEnd()}\n\n${block}\n`;
  return doc.slice(0, start) + block + doc.slice(end + RECORD_END.length);
}

/** Reads the record at `jsonPath` (if any), merges `file` in, writes it and the Markdown section. */
export function writeRecord(
  file: ResultsFile,
  jsonPath: string,
  mdPath: string,
  replace: boolean,
): BenchRecord {
  let previous: BenchRecord | undefined;
  try {
    previous = JSON.parse(readFileSync(jsonPath, 'utf8')) as BenchRecord;
  } catch {
    previous = undefined;
  }
  const record = mergeRecord(previous, file, replace);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(record, null, 2)}\n`);
  let doc = '';
  try {
    doc = readFileSync(mdPath, 'utf8');
  } catch {
    doc = '# Benchmarks\n';
  }
  writeFileSync(mdPath, spliceRecord(doc, recordMarkdown(record)));
  return record;
}
