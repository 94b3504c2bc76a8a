/**
 * Which sources a command works on. A command that only reads (`status`, `quarantine list`,
 * `replay --list`, `reconcile`, `report`) shows every source of a config with several, one after
 * the other under a heading of its name (JSON: one object per source), or the one `--source`
 * names; a config without `sources` is shown as it always was. A command that changes state works
 * on one source: `configToChange` refuses, naming the command and the sources, when several are
 * there and none is chosen.
 */
import {
  type Config,
  chooseSource,
  type LoadOptions,
  loadConfig,
  loadSources,
  SOURCE_VAR,
  type SourceProblem,
} from '../config/index.js';

export interface ReadScope {
  /**
   * The config has `sources` or `sourcesDir`: the output is grouped by source (a heading each, or
   * per-source objects in JSON), even when `--source` leaves one, so that its shape does not
   * depend on how many sources there are.
   */
  grouped: boolean;
  /** The sources to show, in the config's order. */
  configs: Config[];
  /** Sources whose config is invalid (shown with their error; none when `--source` chose one). */
  problems: SourceProblem[];
}

/** The sources a reading command shows: the one chosen (`--source`), or all of them. */
export function sourcesToRead(options: LoadOptions = {}): ReadScope {
  const env = options.env ?? process.env;
  const resolved = loadSources(options);
  const wanted = options.source ?? env[SOURCE_VAR];
  if (!resolved.multi || wanted) {
    // The one source, or a ConfigError naming what is wrong with it (or the names there are).
    return { grouped: resolved.multi, configs: [chooseSource(resolved, wanted)], problems: [] };
  }
  return { grouped: true, configs: resolved.configs, problems: resolved.problems };
}

/** The one source a command that changes state works on; `command` is named when it refuses. */
export function configToChange(command: string, options: LoadOptions = {}): Config {
  return loadConfig({ ...options, purpose: command });
}

/** The heading over one source's part of a grouped output. */
export function sourceHeading(config: Config): string {
  return `== source ${config.source.name} (Redis prefix ${config.redis.prefix}) ==`;
}

/** An invalid source in a grouped output: its heading and why it is not shown. */
export function problemText(problem: SourceProblem): string {
  return `== source ${problem.name ?? problem.origin} (invalid, not shown) ==\n${problem.error.message}`;
}

/** An invalid source in a grouped JSON output. */
export function problemJson(problem: SourceProblem): { source: string; origin: string; error: string } {
  return { source: problem.name ?? problem.origin, origin: problem.origin, error: problem.error.message };
}

/** One source's part of a grouped run: its result, or why it could not be had. */
export type SourceRun<T> = { config: Config; result: T } | { config: Config; error: Error };

/**
 * Runs `fn` for each source in turn (one at a time: each opens its own connections). In a grouped
 * run a source's failure (its vendor database away) is kept and the others still run; otherwise
 * it is thrown as before.
 */
export async function eachSource<T>(
  scope: ReadScope,
  fn: (config: Config) => Promise<T>,
): Promise<Array<SourceRun<T>>> {
  const runs: Array<SourceRun<T>> = [];
  for (const config of scope.configs) {
    try {
      runs.push({ config, result: await fn(config) });
    } catch (error) {
      if (!scope.grouped) throw error;
      runs.push({ config, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  return runs;
}

/** A source that failed or is invalid makes a grouped reading command exit non-zero, after showing the rest. */
export function groupedExitCode(scope: ReadScope, runs: ReadonlyArray<SourceRun<unknown>>): number {
  return scope.problems.length > 0 || runs.some((r) => 'error' in r) ? 1 : 0;
}
