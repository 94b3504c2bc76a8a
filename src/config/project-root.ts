/** Where the package lives (config/, package.json), source tree or compiled. */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
