/**
 * Start-up checks against real demo databases: missing tables and columns reported by config key
 * and table, EXPLAIN failing a stream whose cursor column has no index, the vendor user's
 * privileges, and the `check` command's output and exit code.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/cli/check.js';
import { PROJECT_ROOT } from '../../src/config/index.js';
import { demoConfig } from '../../src/sim/demo-vendor/config.js';
import { createDemoSchema } from '../../src/sim/demo-vendor/schema.js';
import { seedDemo } from '../../src/sim/demo-vendor/seed.js';
import { VendorSchemaError } from '../../src/vendor-db/errors.js';
import { explainStreams } from '../../src/vendor-db/explain.js';
import { vendorPrivileges } from '../../src/vendor-db/grants.js';
import { createVendorPool, type VendorPool } from '../../src/vendor-db/pool.js';
import { assertStreamsValid, validateStreams } from '../../src/vendor-db/validate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/services.js';

const run = promisify(execFile);
let visits: TestDatabase;
let entryExit: TestDatabase;
const users: string[] = [];

beforeAll(async () => {
  visits = await createTestDatabase();
  await createDemoSchema(visits.url, 'visit-table');
  await seedDemo(visits.url, 'visit-table', { visits: 300, lots: 3, photos: false });
  entryExit = await createTestDatabase();
  await createDemoSchema(entryExit.url, 'entry-exit');
  await seedDemo(entryExit.url, 'entry-exit', { visits: 300, lots: 3, photos: false });
}, 60_000);

afterAll(async () => {
  for (const user of users) await visits.admin.query(`DROP USER IF EXISTS ${user}`).catch(() => undefined);
  await visits?.drop();
  await entryExit?.drop();
});

async function withPool<T>(
  config: ReturnType<typeof demoConfig>,
  fn: (pool: VendorPool) => Promise<T>,
): Promise<T> {
  const pool = createVendorPool(config.vendor, { source: config.source.name });
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}

describe('stream validation', () => {
  it('accepts both presets on their demo databases', async () => {
    expect(
      await withPool(demoConfig('visit-table', visits.url), (p) =>
        validateStreams(p, demoConfig('visit-table', visits.url)),
      ),
    ).toEqual([]);
    expect(
      await withPool(demoConfig('entry-exit', entryExit.url), (p) =>
        validateStreams(p, demoConfig('entry-exit', entryExit.url)),
      ),
    ).toEqual([]);
  });

  it('names the config key and the table of a missing column or table', async () => {
    const config = demoConfig('visit-table', visits.url, {
      streams: {
        parks: { from: 'parkinfo_x' },
        entrances: { columns: { plateNumber: 'in_plat' }, photo: { column: 'in_picture', source: 'blob' } },
        departures: { cursor: { time: 'out_tim', id: 'id' } },
      },
    });
    const problems = await withPool(config, (p) => validateStreams(p, config));
    expect(problems).toEqual([
      `streams.parks.from: unknown table 'parkinfo_x' in database ${visits.name}`,
      "streams.entrances.columns.plateNumber: unknown column 'in_plat' in car_inout",
      "streams.entrances.photo.column: unknown column 'in_picture' in car_inout",
      "streams.departures.cursor.time: unknown column 'out_tim' in car_inout",
    ]);
    const error = await withPool(config, (p) => assertStreamsValid(p, config)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VendorSchemaError);
    expect((error as VendorSchemaError).problems).toEqual(problems);
  });

  it('resolves aliases of joins and reports join conditions and WHERE clauses', async () => {
    const config = demoConfig('entry-exit', entryExit.url, {
      streams: {
        spotNums: { from: 't_park_space s JOIN t_park p ON p.codex = s.park_code' },
        parks: { where: 'is_delted = 0' },
        departures: { columns: { payType: 'x.pay_methd', carType: 'type_nam' } },
      },
    });
    const problems = await withPool(config, (p) => validateStreams(p, config));
    expect(problems).toEqual([
      "streams.parks.where: unknown column 'is_delted' in t_park",
      "streams.spotNums.from: unknown column 'codex' in t_park (in the join condition)",
      "streams.departures.columns.carType: unknown column 'type_nam' in t_exit, t_entry, t_car_type",
      "streams.departures.columns.payType: unknown column 'pay_methd' in t_exit",
    ]);
  });

  it('accepts probeIdGaps only on an AUTO_INCREMENT cursor id', async () => {
    const probing = { mode: 'low-latency', probeIdGaps: true };
    const entryExitConfig = demoConfig('entry-exit', entryExit.url, {
      streams: { entrances: probing, departures: probing },
    });
    expect(await withPool(entryExitConfig, (p) => validateStreams(p, entryExitConfig))).toEqual([]);
    // A visit table's departures are UPDATEs: their cursor id is the visit's; plate text is no id.
    const config = demoConfig('visit-table', visits.url, {
      streams: { entrances: { ...probing, cursor: { time: 'in_time', id: 'in_plate' } } },
    });
    const problems = await withPool(config, (p) => validateStreams(p, config));
    expect(problems).toEqual([
      'streams.entrances.probeIdGaps: cursor.id in_plate is not an AUTO_INCREMENT column of car_inout: the probe finds ' +
        'rows committed late by the gaps they leave in ids handed out as rows are inserted (remove probeIdGaps; the sweep still catches them)',
    ]);
  });

  it('reports a cursor time column that does not fit the time format', async () => {
    const config = demoConfig('visit-table', visits.url, {
      streams: { entrances: { timeFormat: 'epoch-s' } },
    });
    const problems = await withPool(config, (p) => validateStreams(p, config));
    expect(problems).toEqual([
      "streams.entrances.cursor.time: in_time is a date/time column, but timeFormat is 'epoch-s' (set timeFormat: datetime)",
    ]);
  });
});

describe('EXPLAIN check', () => {
  it('passes range plans on the cursor indexes', async () => {
    for (const [style, db] of [
      ['visit-table', visits],
      ['entry-exit', entryExit],
    ] as const) {
      const config = demoConfig(style, db.url);
      const plans = await withPool(config, (p) => explainStreams(p, config));
      expect(plans.map((p) => [p.stream, p.query, p.verdict, p.plan?.type])).toEqual([
        ['entrances', 'poll', 'ok', 'range'],
        ['departures', 'poll', 'ok', 'range'],
        ['entrances', 'reconcile', 'ok', 'range'],
        ['departures', 'reconcile', 'ok', 'range'],
      ]);
    }
  });

  it('fails a stream whose cursor column has no index, and says which index to create', async () => {
    const db = await createTestDatabase();
    try {
      await createDemoSchema(db.url, 'visit-table');
      await seedDemo(db.url, 'visit-table', { visits: 2000, lots: 3, photos: false });
      await db.admin.query('ALTER TABLE car_inout DROP INDEX idx_out_time');
      const config = demoConfig('visit-table', db.url);
      const plans = await withPool(config, (p) => explainStreams(p, config));
      const departures = plans.find((p) => p.stream === 'departures')!;
      expect(plans.find((p) => p.stream === 'entrances')!.verdict).toBe('ok');
      expect(departures.verdict).toBe('fail');
      expect(departures.plan?.type).toBe('ALL');
      expect(departures.reasons.join('\n')).toContain(
        'no index of car_inout starts with the cursor time column out_time',
      );
      expect(departures.advice).toContain('CREATE INDEX idx_out_time_id ON car_inout (out_time, id)');

      const lines: string[] = [];
      expect(await runCheck(config, (line) => lines.push(line))).toBe(false);
      expect(lines.join('\n')).toMatch(/departures: FAIL \(ALL on no index of car_inout/);
      expect(lines.join('\n')).toMatch(
        /departures \(reconcile, one day\): FAIL \(ALL on no index of car_inout/,
      );
      expect(lines.at(-1)).toBe('check FAILED');

      // The command exits non-zero with the same advice.
      const result = await run(
        process.execPath,
        [join(PROJECT_ROOT, 'bin/isp-park-sync.js'), '-c', 'config/presets/visit-table.yaml', 'check'],
        { cwd: PROJECT_ROOT, env: { ...process.env, VENDOR_DB_URL: db.url }, timeout: 30_000 },
      ).then(
        () => ({ code: 0, stdout: '' }),
        (e: { code: number; stdout: string }) => e,
      );
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('CREATE INDEX idx_out_time_id ON car_inout (out_time, id)');
    } finally {
      await db.drop();
    }
  }, 60_000);
});

describe('vendor user privileges', () => {
  async function user(grants: string): Promise<string> {
    const name = `ipsro_${randomBytes(4).toString('hex')}`;
    const password = `pw-${randomBytes(6).toString('hex')}`;
    users.push(`'${name}'@'%'`);
    await visits.admin.query(`CREATE USER '${name}'@'%' IDENTIFIED BY '${password}'`);
    await visits.admin.query(`GRANT ${grants} ON \`${visits.name}\`.* TO '${name}'@'%'`);
    const url = new URL(visits.url);
    url.username = name;
    url.password = password;
    return url.toString();
  }

  it('sees a SELECT-only user as read-only, and the check passes without a warning', async () => {
    const url = await user('SELECT');
    const config = demoConfig('visit-table', url);
    const privileges = await withPool(config, (p) => vendorPrivileges(p));
    expect(privileges.canWrite).toBe(false);
    expect(privileges.grants.join('\n')).toContain(`GRANT SELECT ON \`${visits.name}\`.*`);
    const lines: string[] = [];
    expect(await runCheck(config, (line) => lines.push(line))).toBe(true);
    const text = lines.join('\n');
    expect(text).not.toContain('WARNING');
    expect(text).not.toContain(new URL(url).password);
    expect(lines.at(-1)).toBe('check passed');
  });

  it('warns about a user that can write', async () => {
    const url = await user('SELECT, INSERT, UPDATE');
    const config = demoConfig('visit-table', url);
    const privileges = await withPool(config, (p) => vendorPrivileges(p));
    expect(privileges.canWrite).toBe(true);
    expect(privileges.writePrivileges.sort()).toEqual(['INSERT', 'UPDATE']);
    const lines: string[] = [];
    expect(await runCheck(config, (line) => lines.push(line))).toBe(true);
    expect(lines.join('\n')).toMatch(/WARNING: this user can write to .* \(INSERT, UPDATE\)/);
  });

  it('reports FILE, SUPER, LOCK TABLES, EXECUTE, a granted role and LOAD_FILE as breaking the read-only promise', async () => {
    const url = await user('SELECT, LOCK TABLES, EXECUTE');
    const name = decodeURIComponent(new URL(url).username);
    const role = `ipsrole_${randomBytes(4).toString('hex')}`;
    await visits.admin.query(`GRANT FILE, SUPER ON *.* TO '${name}'@'%'`);
    await visits.admin.query(`CREATE ROLE ${role}`);
    users.push(role); // DROP USER drops a role too
    await visits.admin.query(`GRANT SELECT ON \`${visits.name}\`.* TO ${role}`);
    await visits.admin.query(`GRANT ${role} TO '${name}'@'%'`);
    const config = demoConfig('visit-table', url);
    const privileges = await withPool(config, (p) => vendorPrivileges(p));
    expect(privileges.canWrite).toBe(false);
    expect(privileges.risky.map((r) => r.privilege).sort()).toEqual([
      'EXECUTE',
      'FILE',
      'LOCK TABLES',
      'SUPER',
    ]);
    expect(privileges.roles).toEqual([role]);
    expect(privileges.loadFile).toBe('any file the server can read');
    const lines: string[] = [];
    expect(await runCheck(config, (line) => lines.push(line))).toBe(true);
    const text = lines.join('\n');
    for (const privilege of ['FILE', 'SUPER', 'LOCK TABLES', 'EXECUTE']) {
      expect(text).toContain(`WARNING: this user has ${privilege}, which breaks the read-only promise`);
    }
    expect(text).toContain('REVOKE FILE ON *.* FROM <user>');
    expect(text).toContain(`REVOKE LOCK TABLES ON \`${visits.name}\`.* FROM <user>`);
    expect(text).toContain(
      'WARNING: LOAD_FILE works for this user: it can read any file the server can read',
    );
    expect(text).toContain(`WARNING: role ${role} is granted to this user`);
    // SHOW GRANTS prints the password hash: a credential too.
    expect(text).toContain("IDENTIFIED BY PASSWORD '***'");
    expect(text).not.toMatch(/PASSWORD '\*[0-9A-F]{40}'/);
    expect(text).not.toContain(new URL(url).password);
  });

  it('does not see LOAD_FILE without FILE', async () => {
    const url = await user('SELECT');
    const config = demoConfig('visit-table', url);
    const privileges = await withPool(config, (p) => vendorPrivileges(p));
    expect(privileges).toMatchObject({ risky: [], roles: [], loadFile: undefined });
  });
});
