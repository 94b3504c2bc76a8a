/**
 * Picks up source changes without a restart: on SIGHUP, and when a file in the sources folder is
 * added, changed or removed (debounced: an editor writes a file in several steps). Each time the
 * whole config is read again and the fleet brought in line (`Fleet.apply`); a config that cannot be
 * read at all (two sources with one name, say) changes nothing and says why.
 */
import { type FSWatcher, watch } from 'node:fs';
import type { ResolvedSources } from '../src/config/index.js';
import type { Logger } from '../src/log.js';
import type { Fleet, FleetChange } from './fleet.js';

export interface SourceWatchOptions {
  /** The sources folder to watch (none: SIGHUP only). */
  dir?: string;
  logger: Logger;
  debounceMs?: number;
  /** Listen for SIGHUP (off in tests that run several watches in one process). */
  signal?: boolean;
}

export interface SourceWatch {
  /** Reads the config again and applies it now (what SIGHUP does). */
  reload(reason: string): Promise<FleetChange | undefined>;
  close(): void;
}

export function watchSources(
  fleet: Fleet,
  load: () => ResolvedSources,
  options: SourceWatchOptions,
): SourceWatch {
  const { logger } = options;
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  const reload = async (reason: string): Promise<FleetChange | undefined> => {
    let resolved: ResolvedSources;
    try {
      resolved = load();
    } catch (error) {
      logger.error(
        { reason, err: (error as Error).message },
        'sources not reloaded: the config cannot be read; every source keeps running as it was',
      );
      return undefined;
    }
    try {
      const change = await fleet.apply(resolved);
      logger.info({ reason, ...change, kept: change.kept.map((k) => k.name) }, 'sources reloaded');
      return change;
    } catch (error) {
      logger.error({ reason, err: (error as Error).message }, 'sources reload failed');
      return undefined;
    }
  };
  const onHup = () => void reload('SIGHUP');
  if (options.signal !== false) process.on('SIGHUP', onHup);
  if (options.dir) {
    try {
      watcher = watch(options.dir, () => {
        clearTimeout(timer);
        timer = setTimeout(() => void reload(`change in ${options.dir}`), options.debounceMs ?? 500);
      });
      watcher.on('error', (error) =>
        logger.warn(
          { dir: options.dir, err: error.message },
          'cannot watch the sources folder: reload with SIGHUP',
        ),
      );
    } catch (error) {
      logger.warn(
        { dir: options.dir, err: (error as Error).message },
        'cannot watch the sources folder: reload with SIGHUP',
      );
    }
  }
  return {
    reload,
    close() {
      clearTimeout(timer);
      watcher?.close();
      if (options.signal !== false) process.off('SIGHUP', onHup);
    },
  };
}
