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
import { type Config, loadSources, type ResolvedSources, sourceName } from '../config/index.js';
import { createRedis } from '../pipeline/queues.js';
import type { RedisClient } from '../pipeline/redis-options.js';
import {
  countKeys,
  deletePrefix,
  type FoundPrefix,
  failedJobCount,
  forgetSourcePrefix,
  hasState,
  prefixOfSource,
  sourcePrefixesInRedis,
  workersOn,
} from '../pipeline/source-state.js';
import { evidencePath, forgetStateEvidence } from '../pipeline/state-guard.js';
import { redactUrl } from '../redact.js';
import { ParkClaimStore } from '../state/park-claims.js';
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
      assertPurgeable(resolved, name);
      const config = redisConfigOf(resolved, 'sources purge');
      await assertRedisReachable(config.redis.url, 'there is nothing to purge without it.');
      const redis = createRedis(config);
      try {
        const base = basePrefixOf(resolved);
        const prefix = await prefixOfSource(redis, base, name);
        const owner = resolved.configs.find((c) => c.redis.prefix === prefix);
        if (owner)
          throw new Error(
            `${prefix} is the Redis prefix of source ${owner.source.name} (its redisPrefix): not purged`,
          );
        const claims = new ParkClaimStore(redis, base);
        const codes = [...(await claims.all())].filter(([, owner]) => owner === name).map(([code]) => code);
        const keys = await countKeys(redis, prefix);
        const evidence = { ...config, redis: { ...config.redis, prefix } };
        if (keys === 0 && codes.length === 0) {
          forgetStateEvidence(evidence);
          await forgetSourcePrefix(redis, base, name);
          console.log(
            `nothing to purge: Redis holds no key under ${prefix} and no park code claimed by ${name}`,
          );
          return;
        }
        const workers = await workersOn(config, prefix);
        if (workers > 0)
          throw new Error(
            `${workers} worker connection(s) still serve the queues under ${prefix}: a \`start\` process still runs ` +
              `source ${name} (one that has not reloaded its config since it was removed). Reload it (SIGHUP) or stop it, then purge`,
          );
        const failed = await failedJobCount(redis, prefix);
        const what =
          `${keys} key(s) under ${prefix}, ${failed} failed job(s) among them${failed ? ' (events ISP never received)' : ''}` +
          (codes.length ? `, and release the ${codes.length} park code(s) it claims (${listed(codes)})` : '');
        if (!flags.yes) {
          console.log(
            `would delete ${what}; nothing deleted. Run \`isp-park-sync sources purge ${name} --yes\` to delete them`,
          );
          process.exitCode = 1;
          return;
        }
        const deleted = await deletePrefix(redis, prefix);
        // Its lots may now be another source's (ISP still has them under its codes until deleted there).
        const released = await claims.release(name);
        await forgetSourcePrefix(redis, base, name);
        forgetStateEvidence(evidence);
        console.log(
          `deleted ${deleted} key(s) under ${prefix} (${failed} failed job(s) among them)` +
            (released ? `; released ${released} park code(s), which another source may now claim` : '') +
            `. On any other host that ran source ${name}, remove ${basename(evidencePath(evidence))} from its ` +
            'STATE_DIR before a source of that name runs there again: its worker would take the empty prefix for lost state',
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
  /**
   * Sources no longer in the config whose state Redis keeps: their prefixes (keys, failed jobs) and
   * the park codes they still claim (no other source may send those lots until they are purged).
   */
  unconfigured: Array<FoundPrefix & { failedJobs: number; claimedCodes: number }>;
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
  const base = basePrefixOf(resolved);
  const used = new Set(resolved.configs.map((c) => c.redis.prefix));
  // An invalid source still owns its prefix and its claims: its state is not a removed source's.
  const configured = new Set([
    ...resolved.configs.map((c) => c.source.name),
    ...resolved.problems.map((p) => p.name),
  ]);
  const claimed = new Map<string, number>();
  for (const owner of (await new ParkClaimStore(redis, base).all()).values())
    if (!configured.has(owner)) claimed.set(owner, (claimed.get(owner) ?? 0) + 1);
  const found = new Map<string, FoundPrefix>();
  for (const f of await sourcePrefixesInRedis(redis, base))
    if (!used.has(f.prefix) && !configured.has(f.name)) found.set(f.name, f);
  // A removed source whose keys are gone but whose claims are not is listed too (purge releases them).
  for (const name of claimed.keys())
    if (!found.has(name)) found.set(name, { name, prefix: await prefixOfSource(redis, base, name), keys: 0 });
  const unconfigured = [];
  for (const f of [...found.values()].sort((a, b) => a.name.localeCompare(b.name)))
    unconfigured.push({
      ...f,
      failedJobs: await failedJobCount(redis, f.prefix),
      claimedCodes: claimed.get(f.name) ?? 0,
    });
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
  lines.push(`${where}, Redis prefixes under ${basePrefixOf(resolved)}:`);
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
        ['  source', 'Redis prefix', 'keys', 'failed jobs', 'park codes claimed', 'to delete it'],
        listing.unconfigured.map((u) => [
          `  ${u.name}`,
          u.prefix,
          String(u.keys),
          String(u.failedJobs),
          String(u.claimedCodes),
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

/** At most five codes, then how many more. */
function listed(codes: readonly string[]): string {
  return codes.length > 5 ? `${codes.slice(0, 5).join(', ')} and ${codes.length - 5} more` : codes.join(', ');
}

/** `mysql://user:***@host:3306/db`: the password masked, the query (options, maybe secrets) left out. */
export function vendorShown(url: string): string {
  return redactUrl(url).replace(/[?#].*$/, '');
}

/** `purge` deletes only a removed source's state: `name` is a source name no source of the config has. */
function assertPurgeable(resolved: ResolvedSources, name: string): void {
  const parsed = sourceName.safeParse(name);
  if (!parsed.success) throw new Error(`"${name}" is not a source name: ${parsed.error.issues[0]?.message}`);
  const configured =
    resolved.configs.find((c) => c.source.name === name) ?? resolved.problems.find((p) => p.name === name);
  if (configured)
    throw new Error(
      `source ${name} is in the config: purge deletes only the state of a source removed from it. ` +
        'Remove it first (a running `start` stops it when it reloads), then purge',
    );
}

/**
 * The deployment's own prefix, the source prefixes are made from: what the loader gives every
 * source of a config with sources (`source.fleetPrefix`), or the one source's prefix.
 */
function basePrefixOf(resolved: ResolvedSources): string {
  const config = redisConfigOf(resolved, 'sources');
  return config.source.fleetPrefix ?? config.redis.prefix;
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
