/** `config`: validates the configuration and prints it with secrets redacted. */
import { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { redactForDisplay } from '../redact.js';

export function configCommand(): Command {
  return new Command('config')
    .description('validate the configuration and print it (secrets redacted)')
    .action(() => {
      const config = loadConfig();
      console.log(JSON.stringify(redactForDisplay(config), null, 2));
    });
}
