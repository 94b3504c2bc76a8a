/**
 * `config`: validates the configuration and prints it with secrets redacted. With several sources
 * it validates every one: the valid ones are printed (`{"sources": [{source, redisPrefix, config}]}`),
 * each invalid one is named with its file and key, and the command exits 78 when any is invalid,
 * so it checks a sources folder before a reload. `--source` prints that one as a single config.
 */
import { Command } from 'commander';
import { ConfigError, SOURCE_VAR } from '../config/index.js';
import { redactForDisplay } from '../redact.js';
import { problemJson, sourcesToRead } from './source-scope.js';

export function configCommand(): Command {
  return new Command('config')
    .description('validate the configuration (every source) and print it (secrets redacted)')
    .action(() => {
      const scope = sourcesToRead();
      // One source chosen (`--source`): that config alone, as a config without sources prints.
      if (!scope.grouped || process.env[SOURCE_VAR]) {
        console.log(JSON.stringify(redactForDisplay(scope.configs[0]!), null, 2));
        return;
      }
      const sources = [
        ...scope.configs.map((config) => ({
          source: config.source.name,
          redisPrefix: config.redis.prefix,
          config: redactForDisplay(config),
        })),
        ...scope.problems.map(problemJson),
      ];
      console.log(JSON.stringify({ sources }, null, 2));
      if (scope.problems.length > 0)
        throw new ConfigError(
          `${scope.problems.length} of ${scope.configs.length + scope.problems.length} source(s) invalid:\n` +
            scope.problems.map((p) => p.error.message).join('\n'),
          scope.problems.flatMap((p) => p.error.problems),
        );
    });
}
