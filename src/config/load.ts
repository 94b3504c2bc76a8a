/**
 * Loads the Config: config/default.yaml, then the files named by ISP_SYNC_CONFIG (or passed in),
 * then environment variables (a secret also from `<NAME>_FILE`), then programmatic overrides
 * (tests), validated by zod. Any problem is a ConfigError naming the key, e.g.
 * `isp.baseUrl: must be an http(s) URL`. With `require: 'start'`, the settings a worker cannot run
 * without must come from the deployment, not from default.yaml's loopback values; each missing one
 * is named with its variable.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { CONFIG_FILES_VAR } from './env.js';
import {
  configErrorFrom,
  deepMerge,
  envLayer,
  readConfigFile,
  refuseSecretsInFile,
  type Tree,
} from './load-tree.js';
import { PROJECT_ROOT } from './project-root.js';
import { type Config, configSchema } from './schema.js';
import { chooseSource, type ResolvedSources, resolveSources, SOURCE_VAR } from './sources.js';

export { PROJECT_ROOT };
export const DEFAULT_CONFIG_FILE = resolve(PROJECT_ROOT, 'config/default.yaml');
export const DEFAULT_PRESET = resolve(PROJECT_ROOT, 'config/presets/visit-table.yaml');

export interface LoadOptions {
  /** Files layered over default.yaml; default: ISP_SYNC_CONFIG or the visit-table preset. */
  files?: string[];
  env?: NodeJS.ProcessEnv;
  /** Deep-merged last; tests use it (secrets allowed here, they never touch a file). */
  overrides?: Tree;
  /** `start`: refuse to run on default.yaml's loopback ISP and vendor database (requiredForStart). */
  require?: 'start';
  /** Of a config with several sources, the one to load (default: ISP_SYNC_SOURCE, or the only one). */
  source?: string;
  /** The command that needs one source (`replay`): named when several are there and none is chosen. */
  purpose?: string;
}

/**
 * One source's config: the config itself when it has no `sources`, else the source chosen by
 * `options.source` (or ISP_SYNC_SOURCE), or the only one. Commands that work on one source use it.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  return chooseSource(loadSources(options), options.source ?? env[SOURCE_VAR], options.purpose);
}

/**
 * Every source of the config (one for a config without `sources`). A source that fails validation
 * is in `problems`, the others in `configs`; `start` refuses to run with any problem, a reload keeps
 * that source's last good config.
 */
export function loadSources(options: LoadOptions = {}): ResolvedSources {
  const env = options.env ?? process.env;
  const files = options.files ?? configFilesFromEnv(env);
  const layers: Tree[] = [];
  for (const file of files) {
    const layer = readConfigFile(resolveConfigPath(file));
    refuseSecretsInFile(layer, file);
    layers.push(layer);
  }
  layers.push(envLayer(env));
  if (options.overrides) layers.push(options.overrides);
  const tree = layers.reduce(deepMerge, readConfigFile(DEFAULT_CONFIG_FILE));
  const { sources: _s, sourcesDir: _d, ...overrides } = options.overrides ?? {};
  return resolveSources({
    tree,
    deployment: layers.reduce(deepMerge, {}),
    ...(options.overrides ? { overrides } : {}),
    env,
    origin: files.length ? files.join(', ') : 'the config',
    ...(options.require ? { require: options.require } : {}),
  });
}

export function parseConfig(input: unknown): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) throw configErrorFrom(result.error);
  return result.data;
}

export function configFilesFromEnv(env: NodeJS.ProcessEnv): string[] {
  const value = env[CONFIG_FILES_VAR];
  if (!value) return [DEFAULT_PRESET];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function resolveConfigPath(file: string): string {
  if (isAbsolute(file)) return file;
  const fromCwd = resolve(file);
  return existsSync(fromCwd) ? fromCwd : resolve(PROJECT_ROOT, file);
}
