/**
 * Secrets stay secret in a real run, and hiding them breaks nothing: a worker started with
 * WEB_USER=admin, a dashboard password and a vendor database password that both hold `@`, `:`, `/`,
 * `#` and `%` (a real MariaDB user made for the test), delivering live traffic to the simulator.
 * Every link on the dashboard's pages answers (scrubbing "admin" used to break /admin/queues), and
 * no secret value, raw or percent-encoded or inside the Basic header, appears in anything the run
 * printed or served: the worker's log, every page and API answer, and the output of the operator
 * commands (`config`, `check`, `dry-run`, `status`) run with the same environment.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { type Chaos, dashboardUrl, startChaos } from '../chaos/harness.js';
import { runCli } from '../helpers/cli.js';
import { CLIENT_SECRET, waitFor } from '../helpers/pipeline.js';
import { killAll } from '../helpers/processes.js';
import { TEST_MYSQL_URL } from '../helpers/services.js';

const WEB_USER = 'admin';
const WEB_PASSWORD = `we@b:pa/ss#%${randomBytes(4).toString('hex')}`;
const DB_PASSWORD = `db@pa:ss/wo#rd%${randomBytes(4).toString('hex')}`;
const DB_USER = `ipssec_${randomBytes(4).toString('hex')}`;

let chaos: Chaos | undefined;
afterAll(async () => {
  await killAll();
  await chaos?.close();
  const root = await mysql.createConnection({ uri: TEST_MYSQL_URL });
  await root.query(`DROP USER IF EXISTS '${DB_USER}'@'%'`);
  await root.end();
});

/** Every form a secret could leak in. */
function forms(secret: string): string[] {
  return [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)];
}

describe('secrets in a real run', () => {
  it('never appear in logs, pages or command output, and the dashboard links of WEB_USER=admin work', async () => {
    chaos = await startChaos({
      style: 'visit-table',
      seed: { lots: 3, visits: 80, photoRows: 10, days: 1, seed: 5 },
    });
    const c = chaos;
    const root = await mysql.createConnection({ uri: TEST_MYSQL_URL });
    const database = new URL(c.dbUrl).pathname.slice(1);
    await root.query(`CREATE USER '${DB_USER}'@'%' IDENTIFIED BY ?`, [DB_PASSWORD]);
    await root.query(`GRANT SELECT ON \`${database}\`.* TO '${DB_USER}'@'%'`);
    await root.end();
    const vendorUrl = new URL(c.dbUrl);
    vendorUrl.username = DB_USER;
    vendorUrl.password = encodeURIComponent(DB_PASSWORD);
    const env = {
      VENDOR_DB_URL: vendorUrl.toString(),
      WEB_USER,
      WEB_PASSWORD,
      LOG_LEVEL: 'debug',
    };
    const worker = await c.spawnWorker('worker', { args: [], env });
    const url = await dashboardUrl(worker);
    const traffic = await c.traffic({ ratePerSecond: 10, durationMs: 4_000 });
    await waitFor('entrances at the simulator', () => c.sim.state.store.count('entrance') > 0, 60_000);

    const auth = { authorization: `Basic ${Buffer.from(`${WEB_USER}:${WEB_PASSWORD}`).toString('base64')}` };
    const served: string[] = [];
    const get = async (path: string) => {
      const response = await fetch(new URL(path, `${url}/`), { headers: auth });
      const body = await response.text();
      served.push(`${path}\n${body}`);
      return { status: response.status, body };
    };

    // Every same-origin link and asset of the pages an operator opens answers.
    const pages = ['/', '/admin/queues'];
    const seen = new Set<string>();
    for (const page of pages) {
      const { status, body } = await get(page);
      expect(status, page).toBe(200);
      expect(body, page).not.toContain('[redacted]/');
      const links = [...body.matchAll(/\b(?:href|src)="([^"]+)"/g)]
        .map((m) => m[1]!)
        .filter((l) => !/^(?:https?:|data:|#|mailto:)/.test(l));
      expect(links.length, page).toBeGreaterThan(0);
      // bull-board's page resolves its assets against its <base href>.
      const base = new URL(/<base href="([^"]+)"/.exec(body)?.[1] ?? page, `${url}${page}`);
      for (const link of links) {
        const path = new URL(link, base).pathname;
        if (seen.has(path)) continue;
        seen.add(path);
        const answer = await get(path);
        expect(answer.status, `${page} links to ${path}`).toBeLessThan(400);
      }
    }
    expect([...seen]).toEqual(expect.arrayContaining(['/admin/queues']));
    for (const path of ['/api/status', '/metrics', '/healthz', '/readyz', '/admin/api/queues'])
      await get(path);

    await traffic.stop();
    const commands = await Promise.all(
      [['config'], ['check'], ['dry-run', 'entrances'], ['status', '--no-probe']].map(async (args) => {
        const run = await runCli(args, c.env(env), 60_000);
        return `$ ${args.join(' ')} (exit ${run.code})\n${run.stdout}\n${run.stderr}`;
      }),
    );
    expect(commands.join('\n')).toContain('GRANT SELECT ON'); // check did connect as the user

    await worker.stop();
    const everything = [worker.lines().join('\n'), ...served, ...commands].join('\n');
    expect(everything.length).toBeGreaterThan(10_000);
    for (const secret of [WEB_PASSWORD, DB_PASSWORD, CLIENT_SECRET, auth.authorization.slice(6)]) {
      for (const form of forms(secret)) expect(everything, `a form of a secret: ${form}`).not.toContain(form);
    }
  }, 240_000);
});
