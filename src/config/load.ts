/**
 * Loads the Config: config/default.yaml, then the files named by ISP_SYNC_CONFIG (or passed in),
 * then environment variables (a secret also from `<NAME>_FILE`), then programmatic overrides
 * (tests), validated by zod. Any problem is a ConfigError naming the key, e.g.
 * `isp.baseUrl: must be an http(s) URL`. With `require: 'start'`, the settings a worker cannot run
 * without must come from the deployment, not from default.yaml's loopback values; each missing one
 * is named with its variable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import {
  CONFIG_FILES_VAR,
  ENV_VARS,
  type EnvVar,
  FILE_SUFFIX,
  requiredForStart,
  SECRET_KEYS,
} from './env.js';
import { ConfigError } from './errors.js';
import { type Config, configSchema } from './schema.js';

/**
 * The package folder (config/, package.json): two levels up from this file in the source tree; run
 * compiled (bin/compiled.js, under node_modules/.cache/isp-park-sync/<hash>/src/config) it is the
 * nearest folder above that holds config/default.yaml.
 */
export const PROJECT_ROOT = packageRoot(dirname(fileURLToPath(import.meta.url)));

function packageRoot(here: string): string {
  const source = resolve(here, '../..');
  for (let dir = source; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'config/default.yaml'))) return dir;
    if (dirname(dir) === dir) return source;
  }
}
export const DEFAULT_CONFIG_FILE = resolve(PROJECT_ROOT, 'config/default.yaml');
export const DEFAULT_PRESET = resolve(PROJECT_ROOT, 'config/presets/visit-table.yaml');

type Tree = Record<string, unknown>;

export interface LoadOptions {
  /** Files layered over default.yaml; default: ISP_SYNC_CONFIG or the visit-table preset. */
  files?: string[];
  env?: NodeJS.ProcessEnv;
  /** Deep-merged last; tests use it (secrets allowed here, they never touch a file). */
  overrides?: Tree;
  /** `start`: refuse to run on default.yaml's loopback ISP and vendor database (requiredForStart). */
  require?: 'start';
}

export function loadConfig(options: LoadOptions = {}): Config {
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
  if (options.require === 'start') refuseMissing(tree, layers.reduce(deepMerge, {}));
  return parseConfig(tree);
}

/** Throws one ConfigError naming every required setting the deployment's own layers leave unset. */
function refuseMissing(tree: Tree, deployment: Tree): void {
  const grantType = String(getPath(tree, 'isp.auth.grantType') ?? 'client_credentials');
  const missing = requiredForStart(grantType).filter((key) => {
    const value = getPath(deployment, key);
    return value === undefined || value === '';
  });
  if (missing.length === 0) return;
  const problems = missing.map((key) => {
    const v = ENV_VARS.find((e) => e.key === key);
    if (!v) return `${key}: is required`;
    const alt = v.secret || v.fromFile ? ` (or ${v.name}${FILE_SUFFIX}=<file>)` : '';
    return `${v.name}${alt} is required: ${v.doc} (config key ${key})`;
  });
  throw new ConfigError(
    `start: missing required settings:\n  ${problems.join('\n  ')}\n` +
      'Set them in the environment or in .env in the working directory (see .env.example); ' +
      '`isp-park-sync demo` runs everything on this machine without them.',
    problems,
  );
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

function readConfigFile(path: string): Tree {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`config file ${path}: cannot read (${(error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${path}: not valid YAML/JSON (${(error as Error).message})`);
  }
  if (parsed == null) return {};
  if (!isTree(parsed)) throw new ConfigError(`config file ${path}: must hold a mapping at the top`);
  return parsed;
}

function refuseSecretsInFile(tree: Tree, file: string): void {
  for (const key of SECRET_KEYS) {
    if (getPath(tree, key) !== undefined) {
      const envName = ENV_VARS.find((v) => v.key === key)?.name;
      throw new ConfigError(`${key}: secrets may not be set in ${file}; set ${envName} in the environment`);
    }
  }
  for (const key of ['vendor.url', 'redis.url']) {
    const value = getPath(tree, key);
    if (typeof value === 'string' && /\/\/[^/@]*:[^/@]+@/.test(value)) {
      const envName = ENV_VARS.find((v) => v.key === key)?.name;
      throw new ConfigError(`${key}: a URL with a password may not be set in ${file}; use ${envName}`);
    }
  }
}

function envLayer(env: NodeJS.ProcessEnv): Tree {
  const layer: Tree = {};
  refuseFileVariablesOfNonSecrets(env);
  for (const v of ENV_VARS) {
    const raw = envValue(env, v);
    if (raw === undefined || raw === '') continue;
    let value: unknown = raw;
    if (v.kind === 'int') {
      if (!/^\d+$/.test(raw))
        throw new ConfigError(`${v.key}: ${v.name} must be a whole number, got "${raw}"`);
      value = Number(raw);
    } else if (v.kind === 'bool') {
      if (!/^(true|false|1|0)$/i.test(raw))
        throw new ConfigError(`${v.key}: ${v.name} must be true or false`);
      value = /^(true|1)$/i.test(raw);
    }
    setPath(layer, v.key, value);
  }
  return layer;
}

/**
 * The variable's value: from the environment, or for a secret from the file `<NAME>_FILE` names (its
 * content, trailing line breaks removed). Both set is an error naming both; so is an unreadable or
 * empty file. The file's content is never put in a message.
 */
function envValue(env: NodeJS.ProcessEnv, v: EnvVar): string | undefined {
  const direct = env[v.name];
  const fileVar = `${v.name}${FILE_SUFFIX}`;
  const file = v.secret || v.fromFile ? env[fileVar] : undefined;
  if (file === undefined || file === '') return direct;
  if (direct !== undefined && direct !== '')
    throw new ConfigError(`${v.key}: both ${v.name} and ${fileVar} are set; unset one of them`);
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(
      `${v.key}: ${fileVar}=${file} cannot be read (${code}); check the path and its permissions`,
    );
  }
  const value = content.replace(/(\r?\n)+$/, '');
  if (value === '') throw new ConfigError(`${v.key}: ${fileVar}=${file} is empty`);
  return value;
}

/** `ISP_BASE_URL_FILE` and the like would be ignored silently: only secrets are read from files. */
function refuseFileVariablesOfNonSecrets(env: NodeJS.ProcessEnv): void {
  for (const v of ENV_VARS) {
    const fileVar = `${v.name}${FILE_SUFFIX}`;
    if (!v.secret && !v.fromFile && env[fileVar])
      throw new ConfigError(
        `${v.key}: ${fileVar} is not read (only secrets and credentials come from files); set ${v.name}`,
      );
  }
}

export function configErrorFrom(error: z.ZodError): ConfigError {
  const problems = error.issues.map((issue) => {
    const key = issue.path.map(String).join('.') || '(top)';
    // zod 4 leaves the input out of issues; a missing key reads "... received undefined".
    const missing = issue.code === 'invalid_type' && /received undefined$/.test(issue.message);
    const message = missing ? 'is required' : issue.message.replace(/^Invalid input: /, '');
    const hint = key ? envHint(key) : '';
    return `${key}: ${message}${hint}`;
  });
  return new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`, problems);
}

function envHint(key: string): string {
  const v = ENV_VARS.find((e) => e.key === key);
  return v ? ` (environment variable ${v.name})` : '';
}

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepMerge(base: Tree, layer: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(layer)) {
    const prev = out[key];
    out[key] = isTree(prev) && isTree(value) ? deepMerge(prev, value) : value;
  }
  return out;
}

function getPath(tree: Tree, key: string): unknown {
  let node: unknown = tree;
  for (const part of key.split('.')) {
    if (!isTree(node)) return undefined;
    node = node[part];
  }
  return node;
}

function setPath(tree: Tree, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    if (!isTree(node[part])) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts.at(-1)!] = value;
}
