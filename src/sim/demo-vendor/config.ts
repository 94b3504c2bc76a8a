/**
 * The Config a demo database is read with: config/default.yaml, the style's preset and the demo's
 * URL (the process environment is not consulted), plus overrides. Tests, the demo and benchmarks
 * use it so that they read the demo databases exactly as a deployment with that preset would.
 */
import { resolve } from 'node:path';
import { type Config, deepMerge, loadConfig, PROJECT_ROOT } from '../../config/index.js';
import type { DemoStyleName } from './style.js';

export function presetFile(style: DemoStyleName): string {
  return resolve(PROJECT_ROOT, 'config/presets', `${style}.yaml`);
}

export function demoConfig(
  style: DemoStyleName,
  url: string,
  overrides: Record<string, unknown> = {},
): Config {
  return loadConfig({
    files: [presetFile(style)],
    env: {},
    overrides: deepMerge({ vendor: { url } }, overrides),
  });
}
