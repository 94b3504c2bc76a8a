import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  loadConfig,
  loadSources,
  SOURCE_VAR,
  SOURCES_DIR_VAR,
  sourcePrefix,
} from '../../src/config/index.js';
import { configErrorOf as errorOf } from '../helpers/config-error.js';

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ips-sources-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const VISIT = 'config/presets/visit-table.yaml';
const ENTRY_EXIT = 'config/presets/entry-exit.yaml';

describe('sources', () => {
  it('a config without sources is one source, named by source.name, on the prefix it always had', () => {
    const resolved = loadSources({ files: [VISIT], env: {} });
    expect(resolved.multi).toBe(false);
    expect(resolved.configs.map((c) => [c.source.name, c.redis.prefix])).toEqual([['default', '{isp}']]);
    const named = loadConfig({ files: [VISIT], env: {}, overrides: { source: { name: 'north' } } });
    expect([named.source.name, named.redis.prefix]).toEqual(['north', '{isp}']);
  });

  it('gives each source its own hash tag inside the deployment prefix', () => {
    expect(sourcePrefix('{isp}', 'north')).toBe('{isp@north}');
    expect(sourcePrefix('a{b}c', 'n-2')).toBe('a{b@n-2}c');
    expect(sourcePrefix('isp', 'north')).toBe('isp@north');
  });

  it('resolves a list and a folder: each its own mapping, zone, credentials and prefix; shared keys inherited', () => {
    const dir = folder({
      'south.yaml': `extends: ${ENTRY_EXIT}\nvendor:\n  timeZone: Asia/Urumqi\nisp:\n  auth:\n    clientId: south-client\n`,
      'notes.txt': 'not a source',
      '.hidden.yaml': 'name: hidden',
    });
    const config = folder({
      'c.yaml': [
        'pipeline:\n  pushConcurrency: 3',
        'sources:',
        `  - name: north\n    extends: ${VISIT}`,
        `sourcesDir: ${dir}`,
      ].join('\n'),
    });
    const resolved = loadSources({
      files: [join(config, 'c.yaml')],
      env: {
        VENDOR_DB_URL__NORTH: 'mysql://n:pw@127.0.0.1:3306/north',
        VENDOR_DB_URL__SOUTH: 'mysql://s:pw@127.0.0.1:3306/south',
        ISP_CLIENT_SECRET__SOUTH: 'south-secret',
        ISP_CLIENT_SECRET: 'shared-secret',
      },
    });
    expect(resolved.problems).toEqual([]);
    const [north, south] = resolved.configs;
    expect(north!.source.name).toBe('north');
    expect(north!.redis.prefix).toBe('{isp@north}');
    expect(north!.source.fleetPrefix).toBe('{isp}');
    expect(north!.vendor.url).toContain('/north');
    expect(north!.streams.entrances.from).toBe('car_inout');
    expect(north!.isp.auth.clientSecret).toBe('shared-secret');
    expect(south!.source.name).toBe('south');
    expect(south!.redis.prefix).toBe('{isp@south}');
    expect(south!.vendor.timeZone).toBe('Asia/Urumqi');
    // The entry-exit mapping alone, not merged key by key with the visit-table preset of the shared config.
    expect(south!.streams.spotNums.columns).toEqual({
      parkCode: 's.park_code',
      total: 's.total_space',
      remain: 's.free_space',
    });
    expect(south!.isp.auth).toMatchObject({ clientId: 'south-client', clientSecret: 'south-secret' });
    for (const c of resolved.configs) expect(c.pipeline.pushConcurrency).toBe(3);
  });

  it('refuses two sources with one name, naming both places, and two on one prefix', () => {
    const dir = folder({ 'north.yaml': `extends: ${VISIT}\n` });
    const config = folder({
      'c.yaml': `sources:\n  - name: north\n    extends: ${VISIT}\nsourcesDir: ${dir}\n`,
    });
    const twice = errorOf(() => loadSources({ files: [join(config, 'c.yaml')], env: {} }));
    expect(twice.message).toMatch(
      /two sources are named "north" \(sources\[0\] in .*c\.yaml and .*north\.yaml\)/,
    );

    const shared = folder({
      'c.yaml': `sources:\n  - { name: a, redisPrefix: '{x}', extends: ${VISIT} }\n  - { name: b, redisPrefix: '{x}', extends: ${VISIT} }\n`,
    });
    expect(errorOf(() => loadSources({ files: [join(shared, 'c.yaml')], env: {} })).message).toMatch(
      /a and b would share the Redis prefix "\{x\}"/,
    );
  });

  it('keeps a bad source file apart, naming the file and the key; loading it alone fails with that', () => {
    const dir = folder({
      'good.yaml': `extends: ${VISIT}\n`,
      'bad.yaml': `extends: ${VISIT}\nvendor:\n  commitLagSeconds: -3\n`,
    });
    const env = { [SOURCES_DIR_VAR]: dir };
    const resolved = loadSources({ files: [VISIT], env });
    expect(resolved.configs.map((c) => c.source.name)).toEqual(['good']);
    expect(resolved.problems).toHaveLength(1);
    expect(resolved.problems[0]!.name).toBe('bad');
    expect(resolved.problems[0]!.error.message).toMatch(/bad\.yaml: vendor\.commitLagSeconds:/);
    expect(errorOf(() => loadConfig({ files: [VISIT], env, source: 'bad' })).message).toMatch(/bad\.yaml/);
  });

  it('refuses what a source may not set, secrets in its file, and a name unlike its file', () => {
    const shared = folder({ 'x.yaml': 'pipeline:\n  pushConcurrency: 2\n' });
    expect(
      errorOf(() => loadSources({ files: [VISIT], env: { [SOURCES_DIR_VAR]: shared } })).message,
    ).toMatch(/x\.yaml: pipeline: not a source's to set/);
    const secret = folder({ 'x.yaml': 'isp:\n  auth:\n    clientSecret: oops\n' });
    expect(
      errorOf(() => loadSources({ files: [VISIT], env: { [SOURCES_DIR_VAR]: secret } })).message,
    ).toMatch(/isp\.auth\.clientSecret: secrets may not be set in .*x\.yaml/);
    const renamed = folder({ 'x.yaml': 'name: y\n' });
    expect(
      errorOf(() => loadSources({ files: [VISIT], env: { [SOURCES_DIR_VAR]: renamed } })).message,
    ).toMatch(/name: "y" differs from the file's name "x"/);
    const badName = folder({ 'North Side.yaml': '' });
    expect(
      errorOf(() => loadSources({ files: [VISIT], env: { [SOURCES_DIR_VAR]: badName } })).message,
    ).toMatch(/North Side\.yaml: name: "North Side" must be/);
  });

  it('a command on one source: --source, ISP_SYNC_SOURCE, or the only one; otherwise the names', () => {
    const dir = folder({ 'north.yaml': `extends: ${VISIT}\n`, 'south.yaml': `extends: ${ENTRY_EXIT}\n` });
    const env = { [SOURCES_DIR_VAR]: dir };
    expect(errorOf(() => loadConfig({ files: [VISIT], env })).message).toMatch(
      /this config has 2 sources \(north, south\): choose one with --source <name> or ISP_SYNC_SOURCE/,
    );
    expect(loadConfig({ files: [VISIT], env, source: 'south' }).streams.entrances.from).toMatch(/t_entry/);
    expect(loadConfig({ files: [VISIT], env: { ...env, [SOURCE_VAR]: 'north' } }).source.name).toBe('north');
    expect(errorOf(() => loadConfig({ files: [VISIT], env, source: 'west' })).message).toMatch(
      /source "west": no such source; this config has north, south/,
    );
  });

  it("reads a source's secret from a file named either way, and refuses both at once", () => {
    const dir = folder({ 'north.yaml': `extends: ${VISIT}\n`, 'south.yaml': `extends: ${VISIT}\n` });
    const secrets = folder({
      north: 'mysql://n:pw@127.0.0.1:3306/north\n',
      south: 'mysql://s:pw@127.0.0.1:3306/south\n',
    });
    const resolved = loadSources({
      files: [VISIT],
      env: {
        [SOURCES_DIR_VAR]: dir,
        VENDOR_DB_URL_FILE__NORTH: join(secrets, 'north'),
        VENDOR_DB_URL__SOUTH_FILE: join(secrets, 'south'),
      },
    });
    expect(resolved.problems).toEqual([]);
    expect(resolved.configs.map((c) => c.vendor.url)).toEqual([
      'mysql://n:pw@127.0.0.1:3306/north',
      'mysql://s:pw@127.0.0.1:3306/south',
    ]);
    const both = loadSources({
      files: [VISIT],
      env: {
        [SOURCES_DIR_VAR]: dir,
        VENDOR_DB_URL_FILE__NORTH: join(secrets, 'north'),
        VENDOR_DB_URL__NORTH_FILE: join(secrets, 'north'),
      },
    });
    expect(both.problems.map((p) => p.error.message)).toEqual([
      'source north: VENDOR_DB_URL_FILE__NORTH and VENDOR_DB_URL__NORTH_FILE name the same file setting: keep one',
    ]);
  });

  it('start names the suffixed variable a source lacks', () => {
    const dir = folder({ 'north.yaml': `extends: ${VISIT}\n`, 'south.yaml': `extends: ${VISIT}\n` });
    const env = {
      [SOURCES_DIR_VAR]: dir,
      ISP_BASE_URL: 'https://isp.example.com',
      ISP_CLIENT_ID: 'id',
      ISP_CLIENT_SECRET: 'secret',
      VENDOR_DB_URL__NORTH: 'mysql://n:pw@127.0.0.1:3306/north',
    };
    const resolved = loadSources({ files: [VISIT], env, require: 'start' });
    expect(resolved.configs.map((c) => c.source.name)).toEqual(['north']);
    expect(resolved.problems[0]!.error.message).toMatch(
      /source south: .*VENDOR_DB_URL__SOUTH .* or VENDOR_DB_URL for every source/s,
    );
  });
});
