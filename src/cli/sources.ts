/**
 * `sources list|purge`: the vendor systems of this config and their state in Redis. `list` shows
 * each configured source (name, Redis prefix, vendor database without its password, ISP client id,
 * whether Redis holds state for it), the source files that are invalid, and the source prefixes in
 * Redis that no configured source uses: a removed source, whose state and failed jobs are kept
 * until someone decides. `purge <name> --yes` deletes such a removed source's keys; it refuses a
 * source still in the config, a prefix a process still serves, and without `--yes` says what it
 * would delete. The Redis side is src/pipeline/source-state.ts.
 */
import { basename } from 'node:path';
import { Command } from 'commander';
import { type Config, loadSources, type ResolvedSources, sourceName, sourcePrefix } from '../config/index.js';
import { createRedis } from '../pipeline/queues.js';
import type { RedisClient } from '../pipeline/redis-options.js';
import {
  countKeys,
  deletePrefix,
  type FoundPrefix,
  failedJobCount,
  hasState,
  sourcePrefixesInRedis,
  workersOn,
} from '../pipeline/source-state.js';
import { evidencePath, forgetStateEvidence } from '../pipeline/state-guard.js';
import { redactUrl } from '../redact.js';
import { assertRedisReachable } from './redis-reachable.js';
import { formatTable } from './table.js';

export function sourcesCommand(): Command {
  const cmd = new Command('sources').description(
    'the vendor systems of this config and their state in Redis: list them, purge a removed one',
  );

  cmd
    .command('list')
    .description(
      'configured sources (prefix, vendor database, ISP client id, state in Redis), invalid source files, and state of removed sources',
    )
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const resolved = loadSources();
      const config = redisConfigOf(resolved, 'sources list');
      await assertRedisReachable(config.redis.url, 'sources list reads which sources have state there.');
      const redis = createRedis(config);
      try {
        const listing = await listSources(redis, resolved);
        console.log(flags.json ? JSON.stringify(listing, null, 2) : formatListing(listing, resolved));
        if (listing.invalid.length > 0) process.exitCode = 1;
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
    });

  cmd
    .command('purge')
    .description(
      "delete a removed source's state and failed jobs from Redis (refused while it is configured)",
    )
    .argument('<name>', 'the removed source, as `sources list` shows it')
    .option('-y, --yes', 'delete (without it: say what would be deleted)')
    .addHelpText(
      'after',
      '\nFailed jobs are events ISP never received: they go with the rest. To send them first, put the\n' +
        'source back in the config for a while and `replay` them.',
    )
    .action(async (name: string, flags: { yes?: boolean }) => {
      const resolved = loadSources();
      const prefix = purgeablePrefix(resolved, name);
      const config = redisConfigOf(resolved, 'sources purge');
      await assertRedisReachable(config.redis.url, 'there is nothing to purge without it.');
      const redis = createRedis(config);
      try {
        const keys = await countKeys(redis, prefix);
        const evidence = { ...config, redis: { ...config.redis, prefix } };
        if (keys === 0) {
          forgetStateEvidence(evidence);
          console.log(`nothing to purge: Redis holds no key under ${prefix} (source ${name})`);
          return;
        }
        const workers = await workersOn(config, prefix);
        if (workers > 0)
          throw new Error(
            `${workers} worker connection(s) still serve the queues under ${prefix}: a \`start\` process still runs ` +
              `source ${name} (one that has not reloaded its config since it was removed). Reload it (SIGHUP) or stop it, then purge`,
          );
        const failed = await failedJobCount(redis, prefix);
        const what = `${keys} key(s) under ${prefix}, ${failed} failed job(s) among them${failed ? ' (events ISP never received)' : ''}`;
        if (!flags.yes) {
          console.log(
            `would delete ${what}; nothing deleted. Run \`isp-park-sync sources purge ${name} --yes\` to delete them`,
          );
          process.exitCode = 1;
          return;
        }
        const deleted = await deletePrefix(redis, prefix);
        forgetStateEvidence(evidence);
        console.log(
          `deleted ${deleted} key(s) under ${prefix} (${failed} failed job(s) among them). On any other host that ran ` +
            `source ${name}, remove ${basename(evidencePath(evidence))} from its STATE_DIR before a source of that name ` +
            'runs there again: its worker would take the empty prefix for lost state',
        );
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
    });
  return cmd;
}

/** A configured source as `sources list` shows it. */
export interface ListedSource {
  name: string;
  redisPrefix: string;
  /** The vendor database URL, its password masked and its query left out. */
  vendor: string;
  ispClientId: string | null;
  /** Redis holds its marker, checkpoints, delivery totals or failed jobs. */
  state: boolean;
  failedJobs: number;
}

export interface SourceListing {
  sources: ListedSource[];
  invalid: Array<{ name: string | null; origin: string; error: string }>;
  /** Source prefixes in Redis that no configured source uses (removed sources' state). */
  unconfigured: Array<FoundPrefix & { failedJobs: number }>;
  /** The deployment's own prefix, when it holds state and no source uses it (before sources). */
  basePrefix: { prefix: string; state: boolean; used: boolean };
}

export async function listSources(redis: RedisClient, resolved: ResolvedSources): Promise<SourceListing> {
  const sources: ListedSource[] = [];
  for (const c of resolved.configs) {
    sources.push({
      name: c.source.name,
      redisPrefix: c.redis.prefix,
      vendor: vendorShown(c.vendor.url),
      ispClientId: c.isp.auth.clientId ?? null,
      state: await hasState(redis, c.redis.prefix),
      failedJobs: await failedJobCount(redis, c.redis.prefix),
    });
  }
  const used = new Set(resolved.configs.map((c) => c.redis.prefix));
  // An invalid source still owns its prefix: its state is not a removed source's.
  const invalidNames = new Set(resolved.problems.map((p) => p.name));
  const unconfigured = [];
  for (const found of await sourcePrefixesInRedis(redis, resolved.basePrefix)) {
    if (used.has(found.prefix) || invalidNames.has(found.name)) continue;
    unconfigured.push({ ...found, failedJobs: await failedJobCount(redis, found.prefix) });
  }
  const base = resolved.basePrefix;
  return {
    sources,
    invalid: resolved.problems.map((p) => ({
      name: p.name ?? null,
      origin: p.origin,
      error: p.error.message,
    })),
    unconfigured,
    basePrefix: { prefix: base, used: used.has(base), state: await hasState(redis, base) },
  };
}

export function formatListing(listing: SourceListing, resolved: ResolvedSources): string {
  const lines: string[] = [];
  const where = resolved.multi
    ? `${listing.sources.length + listing.invalid.length} source(s)${resolved.dir ? ` (sources folder ${resolved.dir})` : ''}`
    : 'one source (the config has no `sources`)';
  lines.push(`${where}, Redis prefixes under ${resolved.basePrefix}:`);
  lines.push(
    formatTable(
      ['source', 'Redis prefix', 'vendor database', 'ISP client id', 'state in Redis', 'failed jobs'],
      listing.sources.map((s) => [
        s.name,
        s.redisPrefix,
        s.vendor,
        s.ispClientId ?? '-',
        s.state ? 'yes' : 'none yet',
        String(s.failedJobs),
      ]),
    ),
  );
  if (listing.invalid.length) {
    lines.push('', 'invalid (not run by start, not shown by the other commands until corrected):');
    for (const p of listing.invalid) lines.push(`  ${p.name ?? '?'} (${p.origin}): ${p.error}`);
  }
  if (listing.unconfigured.length) {
    lines.push('', 'state in Redis of sources no longer in the config (kept until purged):');
    lines.push(
      formatTable(
        ['  source', 'Redis prefix', 'keys', 'failed jobs', 'to delete it'],
        listing.unconfigured.map((u) => [
          `  ${u.name}`,
          u.prefix,
          String(u.keys),
          String(u.failedJobs),
          `isp-park-sync sources purge ${u.name}`,
        ]),
      ),
    );
  }
  const base = listing.basePrefix;
  if (resolved.multi && base.state && !base.used)
    lines.push(
      '',
      `the deployment prefix ${base.prefix} itself holds worker state no source uses (a deployment from before ` +
        `sources): to carry it on, give that vendor's source \`redisPrefix: '${base.prefix}'\` (docs/configuration.md, Sources)`,
    );
  return lines.join('\n');
}

/** `mysql://user:***@host:3306/db`: the password masked, the query (options, maybe secrets) left out. */
export function vendorShown(url: string): string {
  return redactUrl(url).replace(/[?#].*$/, '');
}

/**
 * The prefix `purge` may delete: a valid source name's prefix under the deployment's, used by no
 * configured source (valid or not).
 */
function purgeablePrefix(resolved: ResolvedSources, name: string): string {
  const parsed = sourceName.safeParse(name);
  if (!parsed.success) throw new Error(`"${name}" is not a source name: ${parsed.error.issues[0]?.message}`);
  const configured =
    resolved.configs.find((c) => c.source.name === name) ?? resolved.problems.find((p) => p.name === name);
  if (configured)
    throw new Error(
      `source ${name} is in the config: purge deletes only the state of a source removed from it. ` +
        'Remove it first (a running `start` stops it when it reloads), then purge',
    );
  const prefix = sourcePrefix(resolved.basePrefix, name);
  const owner = resolved.configs.find((c) => c.redis.prefix === prefix);
  if (owner)
    throw new Error(
      `${prefix} is the Redis prefix of source ${owner.source.name} (its redisPrefix): not purged`,
    );
  return prefix;
}

/** Redis settings are the deployment's, the same in every source: any valid source's will do. */
function redisConfigOf(resolved: ResolvedSources, command: string): Config {
  const config = resolved.configs[0];
  if (!config)
    throw new Error(
      `${command}: every source of this config is invalid, so none gives the Redis settings: ` +
        resolved.problems.map((p) => p.error.message).join('; '),
    );
  return config;
}
