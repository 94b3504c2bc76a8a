/**
 * `check`: can this configuration run against this vendor database without hurting it? Connects
 * with the configured (read-only) user, prints its privileges and warns when it could write,
 * validates every stream's tables and columns, and runs EXPLAIN on each event stream's page query
 * and on reconcile's (a day read through the same index).
 * Exits non-zero when a stream does not fit the schema or would scan a whole table, and says what
 * to do (e.g. which index to ask the vendor's DBA for). Never writes to the vendor database.
 * With several sources every one is checked under its heading (`--source`: that one), an invalid
 * source file is named, and the command fails if any source does.
 */
import { Command } from 'commander';
import type { Config } from '../config/index.js';
import { BIG_TABLE_ROWS, explainStreams, type PlanRow } from '../vendor-db/explain.js';
import { type VendorPrivileges, vendorPrivileges } from '../vendor-db/grants.js';
import { createVendorPool } from '../vendor-db/pool.js';
import { validateStreams } from '../vendor-db/validate.js';
import { zoneOffset } from '../vendor-db/zone.js';
import { eachSource, problemText, sourceHeading, sourcesToRead } from './source-scope.js';

const LABEL = { ok: 'ok', warn: 'WARNING', fail: 'FAIL' } as const;

/** `range on idx_in_time of car_inout`, as EXPLAIN says the table is read. */
function accessOf(row: PlanRow | undefined): string {
  return row ? `${row.type} on ${row.key ?? 'no index'} of ${row.table}` : 'no plan';
}

export interface CheckOptions {
  bigTableRows?: number;
}

/** The vendor user's grants, and a WARNING for each way it could break the read-only promise. */
export function printPrivileges(
  privileges: VendorPrivileges,
  database: string,
  print: (line: string) => void,
): void {
  print('privileges of the vendor user (SHOW GRANTS):');
  for (const grant of privileges.grants) print(`  ${grant}`);
  if (privileges.canWrite) {
    print(
      `WARNING: this user can write to ${database} (${privileges.writePrivileges.join(', ')}). ` +
        `We never write, but give the sync a read-only account: GRANT SELECT ON \`${database}\`.* TO 'isp_sync'@'<host>'`,
    );
  }
  for (const { privilege, why } of privileges.risky) {
    print(
      `WARNING: this user has ${privilege}, which breaks the read-only promise: it ${why}. ` +
        `Revoke it: REVOKE ${privilege} ON ${privilege === 'FILE' || privilege === 'SUPER' || privilege === 'READ_ONLY ADMIN' ? '*.*' : `\`${database}\`.*`} FROM <user>`,
    );
  }
  if (privileges.loadFile) {
    print(
      `WARNING: LOAD_FILE works for this user: it can read ${privileges.loadFile} on the database server ` +
        '(FILE privilege); revoke FILE, or set secure_file_priv on the server',
    );
  }
  for (const role of privileges.roles) {
    print(
      `WARNING: role ${role} is granted to this user; its privileges come on top and may break the ` +
        `read-only promise: check SHOW GRANTS FOR \`${role}\`, or REVOKE \`${role}\` FROM <user>`,
    );
  }
}

/** Runs every check, printing as it goes; true when the configuration may run. */
export async function runCheck(
  config: Config,
  print: (line: string) => void,
  options: CheckOptions = {},
): Promise<boolean> {
  const pool = createVendorPool(config.vendor, { source: config.source.name });
  let ok = true;
  try {
    print(`vendor database ${pool.where}`);
    printPrivileges(await vendorPrivileges(pool), pool.database, print);

    const [clock] = await pool.query<{ tz: string; sys: string; vendorNow: string }>(
      "SELECT @@session.time_zone AS tz, @@system_time_zone AS sys, CAST(CONVERT_TZ(UTC_TIMESTAMP(), '+00:00', ?) AS CHAR) AS vendorNow",
      [zoneOffset(config.vendor.timeZone)],
      'clock',
    );
    if (clock) {
      print(
        `server time_zone ${clock.tz} (system ${clock.sys}); vendor zone ${config.vendor.timeZone} ` +
          `(${zoneOffset(config.vendor.timeZone)}), vendor wall clock now ${clock.vendorNow}; commit lag ${config.vendor.commitLagSeconds} s`,
      );
    }

    const problems = await validateStreams(pool, config);
    if (problems.length) {
      ok = false;
      print('FAIL: the stream config does not match the vendor schema:');
      for (const problem of problems) print(`  ${problem}`);
    } else {
      print('streams: every table and column resolves');
    }

    const eventProblems = problems.some((p) => /^streams\.(entrances|departures)\./.test(p));
    if (eventProblems) {
      print('EXPLAIN skipped: fix the entrance/departure config first');
    } else {
      for (const plan of await explainStreams(pool, config, {
        bigTableRows: options.bigTableRows ?? BIG_TABLE_ROWS,
      })) {
        const size = plan.tableRows === null ? '' : `, ~${plan.tableRows} rows`;
        const how = plan.parts
          ? `derived table ${plan.table}, materialized from its ${plan.parts.length} parts on every page`
          : `${accessOf(plan.plan)}${size}`;
        const which = plan.query === 'reconcile' ? `${plan.stream} (reconcile, one day)` : plan.stream;
        print(`${which}: ${LABEL[plan.verdict]} (${how})`);
        for (const part of plan.parts ?? []) {
          const partSize = part.tableRows === null ? '' : `, ~${part.tableRows} rows`;
          print(`  part ${part.table}: ${LABEL[part.verdict]} (${accessOf(part.plan)}${partSize})`);
        }
        for (const reason of plan.reasons) print(`  ${reason}`);
        if (plan.advice) print(`  what to do: ${plan.advice}`);
        if (plan.parts && plan.verdict !== 'fail') {
          print(
            `  note: a page gathers every row after the cursor from each part (~${plan.plan?.rows ?? '?'} for a cursor an hour old) ` +
              'and sorts them; a long backlog is gathered again for each page: start with a `where` time bound (docs/mapping.md)',
          );
        }
        if (plan.verdict === 'fail') ok = false;
      }
    }
  } catch (error) {
    ok = false;
    print(`FAIL: ${(error as Error).message}`);
  } finally {
    await pool.close().catch(() => undefined);
  }
  print(ok ? 'check passed' : 'check FAILED');
  return ok;
}

export function checkCommand(): Command {
  return new Command('check')
    .description(
      "check the vendor database: the user's privileges, every stream's tables and columns, and the event streams' query plans",
    )
    .option(
      '--big-table-rows <n>',
      'a full index scan fails the check from this table size on',
      (v) => Number.parseInt(v, 10),
      BIG_TABLE_ROWS,
    )
    .action(async (opts: { bigTableRows: number }) => {
      const scope = sourcesToRead();
      const print = (line: string) => console.log(line);
      const options = { bigTableRows: opts.bigTableRows };
      if (!scope.grouped) {
        if (!(await runCheck(scope.configs[0]!, print, options))) process.exitCode = 1;
        return;
      }
      // One source after the other (each opens its own vendor pool), each under its heading.
      const runs = await eachSource(scope, async (config) => {
        print(sourceHeading(config));
        const ok = await runCheck(config, print, options);
        print('');
        return ok;
      });
      for (const problem of scope.problems) print(`${problemText(problem)}\n`);
      const failed = [
        ...runs.filter((r) => !('result' in r) || !r.result).map((r) => r.config.source.name),
        ...scope.problems.map((p) => p.name ?? p.origin),
      ];
      const total = runs.length + scope.problems.length;
      print(
        failed.length
          ? `check FAILED for ${failed.length} of ${total} source(s): ${failed.join(', ')}`
          : `check passed for all ${total} source(s)`,
      );
      if (failed.length) process.exitCode = 1;
    });
}
