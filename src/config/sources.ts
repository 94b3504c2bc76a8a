/**
 * Sources: the vendor systems one deployment reads. A config without `sources` or `sourcesDir` is
 * one source (named by `source.name`). Otherwise every source is a layer over the shared config:
 * its own vendor connection, zone, stream mapping, dictionaries, photo settings and, optionally, ISP
 * credentials, given in the config's `sources` list or as one file per source in `sourcesDir`
 * (`ISP_SYNC_SOURCES_DIR`). Each resolved source is a whole Config with its own name and Redis
 * prefix, so everything built on a Config (state, queues, polls, reconcile) is per source.
 *
 * Precedence, lowest first: config/default.yaml, the config files, the environment, the files the
 * source `extends` (a preset), the source's entry, the source's own environment
 * (`<VARIABLE>__<NAME>`, e.g. `VENDOR_DB_URL__NORTH`), then programmatic overrides (tests).
 *
 * A source's stream mapping is its own: the shared config's `streams` are not inherited, since two
 * vendor schemas merged key by key would make a mapping of neither (a column of one, a table of the
 * other).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { ENV_VARS, FILE_SUFFIX } from './env.js';
import { ConfigError } from './errors.js';
import {
  configErrorFrom,
  deepMerge,
  envLayer,
  getPath,
  isTree,
  missingForStart,
  readConfigFile,
  refuseSecretsInFile,
  type Tree,
} from './load-tree.js';
import { PROJECT_ROOT } from './project-root.js';
import { type Config, configSchema, sourceEnvSuffix, sourceName } from './schema.js';

/** Chooses one source of a many-source config for a command (or `--source`). */
export const SOURCE_VAR = 'ISP_SYNC_SOURCE';
/** A folder of source files, one source per file (`sourcesDir`). */
export const SOURCES_DIR_VAR = 'ISP_SYNC_SOURCES_DIR';

/** What a source may set; the rest (Redis, pipeline, web, alerts, ...) is the deployment's, shared. */
export const SOURCE_KEYS = [
  'name',
  'redisPrefix',
  'extends',
  'vendor',
  'streams',
  'dictionaries',
  'transform',
  'photo',
  'isp',
] as const;

/** The variables a source may set for itself with its suffix (`ISP_CLIENT_SECRET__NORTH`). */
export const SOURCE_ENV_VARS = ENV_VARS.filter(
  (v) => v.key.startsWith('isp.') || v.key.startsWith('vendor.') || v.key.startsWith('photo.'),
);

/** One source as written: where it came from (for messages) and its layer. */
export interface SourceEntry {
  name: string;
  /** `sources[2] in /etc/isp/config.yaml` or the file of a sourcesDir. */
  origin: string;
  layer: Tree;
  redisPrefix?: string;
}

/** A source that could not be resolved: the others still can be (a reload keeps its old config). */
export interface SourceProblem {
  origin: string;
  name?: string;
  error: ConfigError;
}

export interface ResolvedSources {
  /** The config has `sources` or `sourcesDir` (its top-level vendor and streams are then defaults). */
  multi: boolean;
  configs: Config[];
  problems: SourceProblem[];
  /** The sources folder, when there is one (watched for changes by `start`). */
  dir?: string;
}

/**
 * The Redis prefix of a source: its own hash tag inside the deployment's (`{isp}` → `{isp@north}`),
 * so a source's keys stay in one Redis Cluster slot and different sources spread over the masters;
 * without a tag, `isp` → `isp@north`. Never a prefix of another source's keys nor of the
 * deployment's own (`{isp}:…` and `{isp@north}:…` cannot collide).
 */
export function sourcePrefix(base: string, name: string): string {
  const open = base.indexOf('{');
  const close = open >= 0 ? base.indexOf('}', open + 1) : -1;
  if (open >= 0 && close > open + 1) return `${base.slice(0, close)}@${name}${base.slice(close)}`;
  return `${base}@${name}`;
}

/** The entries of a tree's `sources` list and `sourcesDir` folder, with their origins. */
/** The sources folder a config names (`ISP_SYNC_SOURCES_DIR` first). */
export function sourcesDirOf(tree: Tree, env: NodeJS.ProcessEnv): string | undefined {
  if (tree.sourcesDir !== undefined && typeof tree.sourcesDir !== 'string')
    throw new ConfigError('sourcesDir: must be the path of a folder of source files');
  const dir = env[SOURCES_DIR_VAR] || (tree.sourcesDir as string | undefined);
  return dir ? resolve(dir) : undefined;
}

export function sourceEntries(tree: Tree, env: NodeJS.ProcessEnv, origin: string): SourceEntry[] {
  const entries: SourceEntry[] = [];
  const list = tree.sources;
  if (list !== undefined) {
    if (!Array.isArray(list)) throw new ConfigError('sources: must be a list of sources (each with a name)');
    for (const [i, item] of list.entries())
      entries.push(entryOf(item, `sources[${i}] in ${origin}`, undefined));
  }
  const dir = sourcesDirOf(tree, env);
  if (dir) for (const file of sourceFiles(dir)) entries.push(readSourceFile(file));
  return entries;
}

/** The source files of a folder: `*.yaml`, `*.yml`, `*.json`, not hidden, in name order. */
export function sourceFiles(dir: string): string[] {
  const path = resolve(dir);
  if (!existsSync(path) || !statSync(path).isDirectory())
    throw new ConfigError(`sourcesDir: ${path} is not a folder; create it or correct ${SOURCES_DIR_VAR}`);
  return readdirSync(path)
    .filter((f) => !f.startsWith('.') && /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => resolve(path, f));
}

/** One source file as an entry; its name defaults to the file's (`north.yaml` → north). */
export function readSourceFile(file: string): SourceEntry {
  const layer = readConfigFile(file);
  return entryOf(layer, file, basename(file, extname(file)));
}

function entryOf(item: unknown, origin: string, fileName: string | undefined): SourceEntry {
  if (!isTree(item)) throw new ConfigError(`${origin}: a source must be a mapping with a name`);
  const unknown = Object.keys(item).filter((k) => !(SOURCE_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0)
    throw new ConfigError(
      `${origin}: ${unknown.join(', ')}: not a source's to set (a source sets ${SOURCE_KEYS.join(', ')}); ` +
        'the rest is shared by every source: set it at the top of the config',
    );
  const rawName = item.name ?? fileName;
  if (fileName !== undefined && item.name !== undefined && item.name !== fileName)
    throw new ConfigError(
      `${origin}: name: "${String(item.name)}" differs from the file's name "${fileName}"; make them one`,
    );
  const parsed = sourceName.safeParse(rawName);
  if (!parsed.success)
    throw new ConfigError(
      `${origin}: name: ${rawName === undefined ? 'is required' : `"${String(rawName)}" ${parsed.error.issues[0]?.message}`}`,
    );
  refuseSecretsInFile(item, origin);
  const { name: _name, redisPrefix, extends: bases, ...own } = item;
  const layer = [
    ...extendedFiles(bases, origin, fileName !== undefined ? dirname(origin) : undefined),
    own,
  ].reduce((tree, next) => deepMerge(tree, next), {} as Tree);
  if (redisPrefix !== undefined && (typeof redisPrefix !== 'string' || redisPrefix.includes(':')))
    throw new ConfigError(`${origin}: redisPrefix: must be a key prefix without ":"`);
  return {
    name: parsed.data,
    origin,
    layer,
    ...(typeof redisPrefix === 'string' ? { redisPrefix } : {}),
  };
}

/** The layers a source `extends` (presets), read in order; a path is taken from the source file's folder first. */
function extendedFiles(bases: unknown, origin: string, folder: string | undefined): Tree[] {
  if (bases === undefined) return [];
  const list = typeof bases === 'string' ? [bases] : bases;
  if (!Array.isArray(list) || list.some((b) => typeof b !== 'string'))
    throw new ConfigError(`${origin}: extends: must be a file path or a list of them`);
  return (list as string[]).map((file) => {
    const candidates = isAbsolute(file)
      ? [file]
      : [...(folder ? [resolve(folder, file)] : []), resolve(file), resolve(PROJECT_ROOT, file)];
    const path = candidates.find((c) => existsSync(c));
    if (!path)
      throw new ConfigError(`${origin}: extends: ${file} not found (looked in ${candidates.join(', ')})`);
    const layer = readConfigFile(path);
    refuseSecretsInFile(layer, path);
    return layer;
  });
}

/** A source's own variables (`VENDOR_DB_URL__NORTH`), as a layer of config keys. */
export function sourceEnvLayer(env: NodeJS.ProcessEnv, name: string): Tree {
  const suffix = `__${sourceEnvSuffix(name)}`;
  const own: NodeJS.ProcessEnv = {};
  for (const v of SOURCE_ENV_VARS) {
    const value = env[`${v.name}${suffix}`];
    if (value !== undefined) own[v.name] = value;
    // A secret's file, named either way: the suffix after the variable (VENDOR_DB_URL_FILE__NORTH)
    // or `_FILE` after the suffixed name (VENDOR_DB_URL__NORTH_FILE, as `start` names it).
    const files = [`${v.name}${FILE_SUFFIX}${suffix}`, `${v.name}${suffix}${FILE_SUFFIX}`].filter(
      (n) => env[n] !== undefined,
    );
    if (files.length > 1)
      throw new ConfigError(`source ${name}: ${files.join(' and ')} name the same file setting: keep one`);
    if (files[0]) own[`${v.name}${FILE_SUFFIX}`] = env[files[0]];
  }
  try {
    return envLayer(own, SOURCE_ENV_VARS);
  } catch (error) {
    // The message names the unsuffixed variable; the operator set the suffixed one.
    if (error instanceof ConfigError)
      throw new ConfigError(`source ${name}: ${error.message} (with the suffix ${suffix})`);
    throw error;
  }
}

export interface ResolveInput {
  /** default.yaml, files, environment, overrides: the whole shared tree, `sources` included. */
  tree: Tree;
  /** The deployment's own layers (files and environment): what `start` requires must come from them. */
  deployment: Tree;
  overrides?: Tree;
  env: NodeJS.ProcessEnv;
  origin: string;
  require?: 'start';
}

/**
 * Every source of a config, resolved. A problem of one source is returned, not thrown, so a reload
 * keeps that source's last good config; a problem of the whole config (no source can be read, two
 * sources with one name or one prefix) throws.
 */
export function resolveSources(input: ResolveInput): ResolvedSources {
  const { tree, env } = input;
  const entries = sourceEntries(tree, env, input.origin);
  const { sources: _s, sourcesDir: _d, ...whole } = tree;
  if (entries.length === 0) {
    if (tree.sources !== undefined || tree.sourcesDir !== undefined || env[SOURCES_DIR_VAR])
      throw new ConfigError(
        'sources: the config names sources but none was found; add a source or remove the key',
      );
    if (input.require === 'start') refuseMissing(missingForStart(whole, input.deployment), undefined);
    return { multi: false, configs: [parse(whole, undefined)], problems: [] };
  }
  const { streams: _streams, ...shared } = whole;
  refuseDuplicates(entries, String(getPath(shared, 'redis.prefix') ?? '{isp}'));
  const configs: Config[] = [];
  const problems: SourceProblem[] = [];
  for (const entry of entries) {
    try {
      const own = sourceEnvLayer(env, entry.name);
      let merged = deepMerge(deepMerge(shared, entry.layer), own);
      if (input.overrides) merged = deepMerge(merged, input.overrides);
      merged = deepMerge(merged, {
        source: { name: entry.name, fleetPrefix: String(getPath(shared, 'redis.prefix') ?? '{isp}') },
        redis: { prefix: prefixOf(entry, shared) },
      });
      if (input.require === 'start') {
        const deployment = deepMerge(deepMerge(input.deployment, entry.layer), own);
        refuseMissing(missingForStart(merged, deployment), entry.name);
      }
      configs.push(parse(merged, entry));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push({ origin: entry.origin, name: entry.name, error });
    }
  }
  const dir = sourcesDirOf(tree, env);
  return { multi: true, configs, problems, ...(dir ? { dir } : {}) };
}

function prefixOf(entry: SourceEntry, shared: Tree): string {
  return entry.redisPrefix ?? sourcePrefix(String(getPath(shared, 'redis.prefix') ?? '{isp}'), entry.name);
}

/** Two sources with one name, or one Redis prefix, would share their state: refused, naming both. */
function refuseDuplicates(entries: SourceEntry[], basePrefix: string): void {
  const byName = new Map<string, SourceEntry>();
  const byPrefix = new Map<string, SourceEntry>();
  for (const entry of entries) {
    const other = byName.get(entry.name);
    if (other)
      throw new ConfigError(
        `sources: two sources are named "${entry.name}" (${other.origin} and ${entry.origin}); rename one`,
      );
    byName.set(entry.name, entry);
    const prefix = entry.redisPrefix ?? sourcePrefix(basePrefix, entry.name);
    const samePrefix = byPrefix.get(prefix);
    if (samePrefix)
      throw new ConfigError(
        `sources: ${samePrefix.name} and ${entry.name} would share the Redis prefix "${prefix}" (and so their ` +
          'checkpoints, ledger and queues); give each its own redisPrefix',
      );
    byPrefix.set(prefix, entry);
  }
}

function parse(tree: Tree, entry: SourceEntry | undefined): Config {
  const result = configSchema.safeParse(tree);
  if (result.success) return result.data;
  const error = configErrorFrom(result.error);
  if (!entry) throw error;
  const problems = error.problems.map((p) => `${entry.origin}: ${p}`);
  throw new ConfigError(`source ${entry.name}: invalid configuration:\n  ${problems.join('\n  ')}`, problems);
}

function refuseMissing(missing: ReturnType<typeof missingForStart>, source: string | undefined): void {
  if (missing.length === 0) return;
  const suffix = source ? `__${sourceEnvSuffix(source)}` : '';
  const problems = missing.map(({ key, variable }) => {
    if (!variable) return `${key}: is required`;
    const alt =
      variable.secret || variable.fromFile ? ` (or ${variable.name}${suffix}${FILE_SUFFIX}=<file>)` : '';
    const shared = source ? ` or ${variable.name} for every source` : '';
    return `${variable.name}${suffix}${alt}${shared} is required: ${variable.doc} (config key ${key})`;
  });
  throw new ConfigError(
    `start${source ? `: source ${source}` : ''}: missing required settings:\n  ${problems.join('\n  ')}\n` +
      'Set them in the environment or in .env in the working directory (see .env.example); ' +
      '`isp-park-sync demo` runs everything on this machine without them.',
    problems,
  );
}

/**
 * The source a command works on: `wanted` (from --source or ISP_SYNC_SOURCE), or the only one. With
 * several and none chosen, or an unknown name, the error lists the names; `purpose` (a command's
 * name) says which command refused.
 */
export function chooseSource(
  resolved: ResolvedSources,
  wanted: string | undefined,
  purpose?: string,
): Config {
  const names = resolved.configs.map((c) => c.source.name);
  const problemOf = (name: string) => resolved.problems.find((p) => p.name === name);
  if (wanted === undefined || wanted === '') {
    if (resolved.problems.length > 0 && resolved.configs.length + resolved.problems.length === 1)
      throw resolved.problems[0]!.error;
    if (resolved.configs.length === 1 && resolved.problems.length === 0) return resolved.configs[0]!;
    const all = [...names, ...resolved.problems.map((p) => p.name ?? p.origin)];
    // A command that changes state names itself and shows the call with the first name filled in.
    const why = purpose ? `${purpose} works on one source at a time, and ` : '';
    const example = purpose && all[0] ? ` (e.g. isp-park-sync --source ${all[0]} ${purpose} ...)` : '';
    throw new ConfigError(
      `${why}this config has ${all.length} sources (${all.join(', ')}): ` +
        `choose one with --source <name> or ${SOURCE_VAR}${example}`,
    );
  }
  const found = resolved.configs.find((c) => c.source.name === wanted);
  if (found) return found;
  const problem = problemOf(wanted);
  if (problem) throw problem.error;
  throw new ConfigError(
    `source "${wanted}": no such source; this config has ${names.length ? names.join(', ') : 'none'}`,
  );
}
