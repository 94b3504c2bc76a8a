/**
 * The sources one process runs. Each source is the whole single-vendor pipeline on its own Runtime
 * (vendor pool, ISP client and token, queues and state under its own Redis prefix) with its own
 * workers, so one source's vendor outage, backlog, poison rows or slow photo store holds up only
 * its own polls and pushes; every process running the fleet on one Redis shares each source's
 * queues (polls stay one at a time per source and stream, cluster-wide).
 *
 * Sources come and go without a restart (`apply`): an added source starts, a removed one stops and
 * its job schedulers are removed (its failed jobs and state stay until purged on purpose), a changed
 * one restarts with its new config, and one whose new config is invalid keeps running its old one.
 * A park code claimed by two sources is refused: at start nothing starts; on a change the newcomer
 * does not start.
 */
import { type Config, ConfigError, type ResolvedSources } from '../src/config/index.js';
import type { Logger } from '../src/log.js';
import type { FleetSource, FleetView, IdleSource } from '../src/pipeline/fleet-view.js';
import { claimConflicts, describeConflicts, readClaims } from '../src/pipeline/park-claims.js';
import {
  createPhotoSlots,
  createRuntime,
  type PhotoSlots,
  type Runtime,
  type RuntimeOptions,
  resizePhotoSlots,
} from '../src/pipeline/runtime.js';
import { removeSchedules } from '../src/pipeline/schedules.js';
import { readiness } from './readiness.js';
import { checkRedis } from './redis-preflight.js';
import { type Role, type RunningWorkers, startWorkers } from './workers.js';

export interface RunningSource extends FleetSource {
  running: RunningWorkers;
}

export interface FleetOptions {
  roles: ReadonlySet<Role>;
  logger: Logger;
  /** Runtime options for every source (tests: vendor session statements, clocks). */
  runtime?: Omit<RuntimeOptions, 'logger'>;
}

export interface FleetChange {
  added: string[];
  removed: string[];
  restarted: string[];
  /** Sources left as they were: new config invalid, or refused (park code of another source). */
  kept: Array<{ name: string; reason: string }>;
}

export class Fleet implements FleetView {
  private readonly running = new Map<string, RunningSource>();
  private readonly stopped = new Map<string, IdleSource>();
  private readonly listeners = new Set<() => void>();
  private changing: Promise<unknown> = Promise.resolve();

  /**
   * @param photoSlots the process's photo slots, which every source shares in turn: a source with a
   * photo backlog or a slow photo store holds its share, not all of them, and the process holds at
   * most that many photos in memory however many sources it runs.
   */
  private constructor(
    private readonly options: FleetOptions,
    private readonly photoSlots: PhotoSlots,
  ) {}

  /** Starts every source, or none: an invalid source or a park code claimed twice refuses the start. */
  static async start(resolved: ResolvedSources, options: FleetOptions): Promise<Fleet> {
    if (resolved.problems.length > 0) {
      const problems = resolved.problems.flatMap((p) => p.error.problems);
      throw new ConfigError(resolved.problems.map((p) => p.error.message).join('\n'), problems);
    }
    const fleet = new Fleet(options, createPhotoSlots(resolved.configs));
    const runtimes = resolved.configs.map((config) => fleet.runtimeOf(config));
    try {
      await fleet.refuseConflicts(runtimes, []);
      for (const rt of runtimes) await fleet.startOn(rt);
    } catch (error) {
      await fleet.close();
      await Promise.allSettled(
        runtimes.filter((rt) => !fleet.running.has(rt.config.source.name)).map((rt) => rt.close()),
      );
      throw error;
    }
    return fleet;
  }

  sources(): RunningSource[] {
    return [...this.running.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  idle(): IdleSource[] {
    return [...this.stopped.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Brings the running sources in line with a new reading of the config (one change at a time). */
  apply(resolved: ResolvedSources): Promise<FleetChange> {
    const next = this.changing
      .then(() => this.applyNow(resolved))
      .finally(() => this.sizePhotoSlots(this.sources().map((s) => s.config)));
    this.changing = next.catch(() => undefined);
    return next;
  }

  private async applyNow(resolved: ResolvedSources): Promise<FleetChange> {
    const { logger } = this.options;
    const change: FleetChange = { added: [], removed: [], restarted: [], kept: [] };
    const invalid = new Set<string>();
    for (const problem of resolved.problems) {
      const name = problem.name ?? problem.origin;
      invalid.add(name);
      const running = this.running.has(name);
      change.kept.push({ name, reason: problem.error.message });
      logger.error(
        { source: name, origin: problem.origin, problems: problem.error.problems },
        running
          ? 'source config invalid: the source keeps running its previous config; correct the file and reload'
          : 'source config invalid: the source does not start; correct the file and reload',
      );
      if (!running)
        this.stopped.set(name, { name, state: 'invalid', reason: problem.error.message, since: Date.now() });
    }
    const wanted = new Map(resolved.configs.map((c) => [c.source.name, c]));
    // Room first for what the sources asking most may start; the size settles once they have.
    this.sizePhotoSlots([...this.sources().map((s) => s.config), ...resolved.configs]);
    for (const name of [...this.running.keys()]) {
      if (wanted.has(name) || invalid.has(name)) continue;
      await this.stop(name, { removeSchedules: true });
      this.stopped.set(name, {
        name,
        state: 'removed',
        reason: 'removed from the config; its state and failed jobs are kept',
        since: Date.now(),
      });
      change.removed.push(name);
      logger.info({ source: name }, 'source removed: polling stopped, its state and failed jobs kept');
    }
    for (const [name, config] of wanted) {
      const current = this.running.get(name);
      if (current && sameConfig(current.config, config)) continue;
      const rt = this.runtimeOf(config);
      try {
        const others = this.sources()
          .filter((s) => s.name !== name)
          .map((s) => s.rt);
        await this.refuseConflicts([rt], others);
      } catch (error) {
        await rt.close();
        const reason = (error as Error).message;
        change.kept.push({ name, reason });
        logger.error(
          { source: name, err: reason },
          current ? 'source change refused: keeps its previous config' : 'source refused',
        );
        if (!current) this.stopped.set(name, { name, state: 'refused', reason, since: Date.now() });
        continue;
      }
      if (current) await this.stop(name, { removeSchedules: false });
      try {
        await this.startOn(rt);
      } catch (error) {
        await rt.close();
        throw error;
      }
      this.stopped.delete(name);
      (current ? change.restarted : change.added).push(name);
      logger.info({ source: name }, current ? 'source restarted with its new config' : 'source added');
    }
    if (change.added.length + change.removed.length + change.restarted.length > 0)
      for (const listener of this.listeners) listener();
    return change;
  }

  /** Stops every source at once: each waits for its active jobs, so one after another took seconds per source. */
  async close(): Promise<void> {
    await this.changing;
    await Promise.all([...this.running.keys()].map((name) => this.stop(name, { removeSchedules: false })));
  }

  /** The process's photo slots as large as the largest setting among `configs` asks. */
  private sizePhotoSlots(configs: readonly Config[]): void {
    if (resizePhotoSlots(this.photoSlots, configs))
      this.options.logger.info(
        { concurrency: this.photoSlots.fitting.size, fetchConcurrency: this.photoSlots.loads.size },
        'photo slots of this process resized for its sources',
      );
  }

  private runtimeOf(config: Config): Runtime {
    return createRuntime(config, {
      ...this.options.runtime,
      photoSlots: this.photoSlots,
      logger: this.options.logger.child({ source: config.source.name }),
    });
  }

  private async startOn(rt: Runtime): Promise<void> {
    await checkRedis(rt.redis);
    const running = await startWorkers(rt, this.options.roles);
    const name = rt.config.source.name;
    const startedAt = Date.now();
    this.running.set(name, {
      name,
      config: rt.config,
      rt,
      running,
      startedAt,
      readiness: () => readiness(rt, { ...running, startedAt }),
    });
  }

  private async stop(name: string, options: { removeSchedules: boolean }): Promise<void> {
    const source = this.running.get(name);
    if (!source) return;
    this.running.delete(name);
    await source.running.close();
    if (options.removeSchedules) await removeSchedules(source.rt.queues);
    await source.rt.close();
  }

  /**
   * Refuses when a park code of `candidates` is claimed by another candidate or by a running source.
   * A source whose vendor database is unreachable claims what ISP accepted from it; it is checked
   * again when its lots are read (the parks poll).
   */
  private async refuseConflicts(candidates: Runtime[], running: Runtime[]): Promise<void> {
    const all = [...candidates, ...running];
    if (all.length < 2) return;
    const claims = await Promise.all(
      all.map(async (rt) => {
        const read = await readClaims(rt);
        if (read.vendorError)
          rt.logger.warn(
            { err: read.vendorError },
            'vendor database unreachable: only the lots ISP accepted from this source are checked for park codes of other sources',
          );
        return { source: rt.config.source.name, codes: read.codes };
      }),
    );
    const names = new Set(candidates.map((rt) => rt.config.source.name));
    const conflicts = claimConflicts(claims).filter((c) => c.sources.some((s) => names.has(s)));
    if (conflicts.length > 0)
      throw new ConfigError(
        `sources: ${describeConflicts(conflicts)}; a park code must belong to one source (ISP knows a lot by its code alone)`,
      );
  }
}

function sameConfig(a: Config, b: Config): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
