/**
 * The `isp-park-sync` command. Each command lives in src/cli/<name>.ts and is added here; the
 * commands load the Config themselves so that `--help` works without one. A `.env` file in the
 * working directory is read first (Node's own parser); variables already in the environment win.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { backfillCommand } from './cli/backfill.js';
import { checkCommand } from './cli/check.js';
import { configCommand } from './cli/config.js';
import { demoCommand } from './cli/demo.js';
import { dryRunCommand } from './cli/dry-run.js';
import { fullSyncCommand } from './cli/full-sync.js';
import { initCommand } from './cli/init.js';
import { quarantineCommand } from './cli/quarantine.js';
import { reconcileCommand } from './cli/reconcile.js';
import { replayCommand } from './cli/replay.js';
import { reportCommand } from './cli/report.js';
import { resumeCommand } from './cli/resume.js';
import { simCommand } from './cli/sim.js';
import { sourcesCommand } from './cli/sources.js';
import { startCommand } from './cli/start.js';
import { statusCommand } from './cli/status.js';
import { vendorCommand } from './cli/vendor.js';
import { ConfigError, PROJECT_ROOT } from './config/index.js';

try {
  process.loadEnvFile('.env');
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
    console.error(`.env in ${process.cwd()}: ${(error as Error).message}; fix or remove it`);
    process.exit(78); // EX_CONFIG
  }
}

const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  version: string;
};

const program = new Command('isp-park-sync')
  .description(
    'Delivers parking lots, space counts, entrances and departures from a legacy parking database to ISP',
  )
  .version(version, '-V, --version', 'print the version')
  .option(
    '-c, --config <files>',
    'config files layered over config/default.yaml (comma-separated; env ISP_SYNC_CONFIG)',
  )
  .option('-s, --source <name>', 'of a config with several sources, the one to work on (env ISP_SYNC_SOURCE)')
  .hook('preAction', (cmd) => {
    const { config: files, source } = cmd.opts<{ config?: string; source?: string }>();
    if (files) process.env.ISP_SYNC_CONFIG = files;
    if (source) process.env.ISP_SYNC_SOURCE = source;
  });

program.addCommand(startCommand());
program.addCommand(statusCommand());
program.addCommand(dryRunCommand());
program.addCommand(fullSyncCommand());
program.addCommand(configCommand());
program.addCommand(checkCommand());
program.addCommand(initCommand());
program.addCommand(vendorCommand());
program.addCommand(simCommand());
program.addCommand(replayCommand());
program.addCommand(resumeCommand());
program.addCommand(backfillCommand());
program.addCommand(quarantineCommand());
program.addCommand(reconcileCommand());
program.addCommand(reportCommand());
program.addCommand(sourcesCommand());
program.addCommand(demoCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78); // EX_CONFIG
  }
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
