/**
 * The config as a tree before validation: reading files, the environment's layer, merging, and
 * what `start` requires (src/config/load.ts loads one config, src/config/sources.ts its sources).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ENV_VARS, type EnvVar, FILE_SUFFIX, requiredForStart, SECRET_KEYS } from './env.js';
import { ConfigError } from './errors.js';

export type Tree = Record<string, unknown>;

/** The settings `start` needs from the deployment that `deployment` (its own layers) leaves unset. */
export function missingForStart(
  tree: Tree,
  deployment: Tree,
): Array<{ key: string; variable: EnvVar | undefined }> {
  const grantType = String(getPath(tree, 'isp.auth.grantType') ?? 'client_credentials');
  return requiredForStart(grantType)
    .filter((key) => {
      const value = getPath(deployment, key);
      return value === undefined || value === '';
    })
    .map((key) => ({ key, variable: ENV_VARS.find((e) => e.key === key) }));
}

export function readConfigFile(path: string): Tree {
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

export function refuseSecretsInFile(tree: Tree, file: string): void {
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

/** The config keys the environment sets (`vars`: which variables are read; all by default). */
export function envLayer(env: NodeJS.ProcessEnv, vars: readonly EnvVar[] = ENV_VARS): Tree {
  const layer: Tree = {};
  refuseFileVariablesOfNonSecrets(env);
  for (const v of vars) {
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
export function envValue(env: NodeJS.ProcessEnv, v: EnvVar): string | undefined {
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
export function refuseFileVariablesOfNonSecrets(env: NodeJS.ProcessEnv): void {
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

export function isTree(value: unknown): value is Tree {
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

export function getPath(tree: Tree, key: string): unknown {
  let node: unknown = tree;
  for (const part of key.split('.')) {
    if (!isTree(node)) return undefined;
    node = node[part];
  }
  return node;
}

export function setPath(tree: Tree, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    if (!isTree(node[part])) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts.at(-1)!] = value;
}
