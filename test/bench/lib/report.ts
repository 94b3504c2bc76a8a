/**
 * The benchmark results: one entry per figure (median of its runs, with min and max), the ceiling
 * it is compared with, the target and whether it was met; written as test/bench/results.json and
 * a Markdown table (results.md) docs/benchmarks.md quotes. Pure except for `writeResults`.
 */
import { writeFileSync } from 'node:fs';

export interface Ceiling {
  /** Result id of the ceiling, or a description of the reference. */
  id: string;
  value: number;
  unit: string;
}

export interface Target {
  /** What is compared: the figure itself or its ratio to the ceiling. */
  on: 'value' | 'ratio';
  op: '>=' | '<=' | '<';
  bound: number;
  /** As the issue states it. */
  text: string;
}

export interface Run {
  value: number;
  [detail: string]: unknown;
}

export interface Result {
  id: string;
  /** Median of the runs. */
  value: number;
  unit: string;
  min: number;
  max: number;
  /** Number of runs the median is taken over. */
  n: number;
  ceiling: Ceiling | null;
  /** value / ceiling.value (or the figure's own meaning when it is a ratio already). */
  ratio: number | null;
  target: Target | null;
  /** null when there is no target. */
  met: boolean | null;
  /** How it was measured, sizes used, why there is no ceiling, what limits it. */
  note: string;
  /** The command that reproduces this figure. */
  command: string;
  runs: Run[];
}

export interface ResultsFile {
  mode: 'full' | 'quick';
  /** Free text: sizes used, which runs are fewer than 3 and why. */
  notes: string[];
  command: string;
  startedAt: string;
  durationSeconds: number;
  machine: Record<string, unknown>;
  versions: Record<string, string>;
  results: Result[];
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = Float64Array.from(xs).sort();
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  const abs = Math.abs(value);
  const places = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 2 : digits;
  return Number(value.toFixed(places));
}

export function isMet(target: Target | null, value: number, ratio: number | null): boolean | null {
  if (!target) return null;
  const x = target.on === 'value' ? value : ratio;
  if (x === null || !Number.isFinite(x)) return false;
  switch (target.op) {
    case '>=':
      return x >= target.bound;
    case '<=':
      return x <= target.bound;
    case '<':
      return x < target.bound;
  }
}

export interface ResultInput {
  id: string;
  unit: string;
  runs: Run[];
  ceiling?: Ceiling | null;
  /** Ratio from the median value and the ceiling unless given (figures that are ratios themselves). */
  ratio?: number | null;
  target?: Target | null;
  note: string;
  command: string;
}

export function makeResult(input: ResultInput): Result {
  const values = input.runs.map((r) => r.value).filter((v) => Number.isFinite(v));
  const value = median(values);
  const ceiling = input.ceiling ?? null;
  const ratio =
    input.ratio !== undefined ? input.ratio : ceiling && ceiling.value > 0 ? value / ceiling.value : null;
  const target = input.target ?? null;
  return {
    id: input.id,
    value: round(value),
    unit: input.unit,
    min: round(values.length ? Math.min(...values) : Number.NaN),
    max: round(values.length ? Math.max(...values) : Number.NaN),
    n: values.length,
    ceiling: ceiling ? { ...ceiling, value: round(ceiling.value) } : null,
    ratio: ratio === null ? null : round(ratio),
    target,
    met: isMet(target, value, ratio),
    note: input.note,
    command: input.command,
    runs: input.runs.map((r) => roundDeep(r) as Run),
  };
}

function roundDeep(value: unknown): unknown {
  if (typeof value === 'number') return round(value);
  if (Array.isArray(value)) return value.map(roundDeep);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundDeep(v)]));
  return value;
}

function fmt(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return round(value).toLocaleString('en');
}

type Align = 'left' | 'right' | 'center';

/** A Markdown table with padded columns, laid out as the project's formatter (Biome) lays them. */
export function table(head: string[], align: Align[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, 3, ...rows.map((r) => (r[i] ?? '').length)));
  const cell = (text: string, i: number) => {
    const room = widths[i]! - text.length;
    if (align[i] === 'right') return ' '.repeat(room) + text;
    if (align[i] === 'center') {
      const left = Math.floor(room / 2);
      return ' '.repeat(left) + text + ' '.repeat(room - left);
    }
    return text + ' '.repeat(room);
  };
  const line = (cells: string[]) => `| ${cells.map((c, i) => cell(c, i)).join(' | ')} |`;
  const rule = widths.map((w, i) =>
    align[i] === 'right'
      ? `${'-'.repeat(w - 1)}:`
      : align[i] === 'center'
        ? `:${'-'.repeat(w - 2)}:`
        : '-'.repeat(w),
  );
  return [line(head), `| ${rule.join(' | ')} |`, ...rows.map(line)];
}

/** Where the CPU went in each run of a pipeline figure (cores busy on average), if recorded. */
function cpuText(r: Result): string {
  const shares = r.runs
    .map((run) => (run.cpuCores ?? run.cpuCoresDuringDrain) as Record<string, number> | undefined)
    .filter((c): c is Record<string, number> => c !== undefined);
  if (shares.length === 0) return '';
  const one = (c: Record<string, number>) =>
    Object.entries(c)
      .filter(([k]) => k !== 'machine')
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ');
  return ` CPU in cores busy per run: ${shares.map((c) => `[${one(c)}]`).join('; ')}.`;
}

/** The Markdown table docs/benchmarks.md quotes. */
export function toMarkdown(file: ResultsFile): string {
  const m = file.machine;
  const lines = [
    `# Benchmark results (${file.mode}${file.mode === 'quick' ? ': reduced sizes, not the reference figures' : ''})`,
    '',
    `Command: \`${file.command}\` · ${file.startedAt} · ${Math.round(file.durationSeconds)} s`,
    '',
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB RAM, ${m.os}; load average at start ${m.loadStart}, at end ${m.loadEnd}. ` +
      `Versions: ${Object.entries(file.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
    '',
    'Each figure is the median of its runs (n), with min–max; the ratio compares it with a ceiling measured in the same run on the same machine.',
    '',
  ];
  const rows = file.results.map((r) => [
    `\`${r.id}\``,
    `${fmt(r.value)} ${r.unit}`,
    `${fmt(r.min)}–${fmt(r.max)}`,
    String(r.n),
    r.ceiling ? `${fmt(r.ceiling.value)} ${r.ceiling.unit} (${r.ceiling.id})` : '–',
    fmt(r.ratio),
    r.target?.text ?? '–',
    r.met === null ? '–' : r.met ? 'yes' : '**no**',
  ]);
  lines.push(
    ...table(
      ['id', 'value (median)', 'min–max', 'n', 'ceiling', 'ratio', 'target', 'met'],
      ['left', 'right', 'right', 'right', 'left', 'right', 'left', 'center'],
      rows,
    ),
  );
  lines.push('', '## Notes', '');
  for (const note of file.notes) lines.push(`- ${note}`);
  lines.push('', '## How each figure is measured', '');
  for (const r of file.results) {
    lines.push(`- \`${r.id}\`: ${r.note}${cpuText(r)} Reproduce: \`${r.command}\`.`);
  }
  return `${lines.join('\n')}\n`;
}

export function writeResults(file: ResultsFile, jsonPath: string, mdPath: string): void {
  writeFileSync(jsonPath, `${JSON.stringify(file, null, 2)}\n`);
  writeFileSync(mdPath, toMarkdown(file));
}
