/**
 * `vendor create|seed|traffic`: the demo vendor databases (src/sim/demo-vendor) on any MySQL/MariaDB
 * URL, for demos, tests and benchmarks. These commands write — but only to a database that
 * `vendor create` made (it carries a marker table); never point them at a real vendor database.
 */
import { Command, Option } from 'commander';
import mysql from 'mysql2/promise';
import { redactUrl } from '../redact.js';
// The demo tools (their photo pool brings sharp) are loaded by the actions only: src/cli.ts builds
// every command at start, the worker's included.
import { DEMO_STYLES, type DemoStyleName } from '../sim/demo-vendor/style.js';
import { parseDuration, positiveNumber, ratio, wholeNumber } from './args.js';

const demoTools = () => import('../sim/demo-vendor/index.js');

export const DEFAULT_DEMO_URL = 'mysql://root@127.0.0.1:3306/parking_demo';

const styleOption = () =>
  new Option('--style <style>', 'schema style').choices(DEMO_STYLES as unknown as string[]);
const urlOption = () =>
  new Option('--url <url>', 'mysql://user[:pass]@host:3306/db of the demo database')
    .env('DEMO_VENDOR_URL')
    .default(DEFAULT_DEMO_URL);

/** The style of the demo at `url`, from its marker, when --style is not given. */
async function styleAt(url: string, given: DemoStyleName | undefined): Promise<DemoStyleName> {
  if (given) return given;
  const { demoStyleOf } = await demoTools();
  const conn = await mysql.createConnection({ uri: url });
  try {
    return await demoStyleOf(conn);
  } finally {
    await conn.end();
  }
}

/** Whether `url` names a demo database `vendor create` made (false when the database is missing). */
async function hasDemo(url: string): Promise<boolean> {
  const { DemoDatabaseError, demoStyleOf } = await demoTools();
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection({ uri: url });
  } catch (error) {
    if ((error as { code?: string }).code === 'ER_BAD_DB_ERROR') return false;
    throw error;
  }
  try {
    await demoStyleOf(conn);
    return true;
  } catch (error) {
    if (error instanceof DemoDatabaseError) return false;
    throw error;
  } finally {
    await conn.end();
  }
}

export function vendorCommand(): Command {
  const vendor = new Command('vendor').description(
    'demo vendor databases: create, seed and drive them (writes only to databases `vendor create` made)',
  );

  vendor
    .command('create')
    .description('create the database (if missing) and the tables and indexes of a demo style')
    .addOption(styleOption().makeOptionMandatory())
    .addOption(urlOption())
    .option('--drop', 'drop an existing demo first')
    .action(async (opts: { style: DemoStyleName; url: string; drop?: boolean }) => {
      const { createDemoSchema } = await demoTools();
      await createDemoSchema(opts.url, opts.style, { drop: opts.drop });
      console.log(`created the ${opts.style} demo in ${redactUrl(opts.url)}`);
    });

  vendor
    .command('seed')
    .description('replace the demo data with lots and historical visits (and, with --bad, a few bad rows)')
    .addOption(styleOption())
    .addOption(urlOption())
    .option('--lots <n>', 'parking lots', wholeNumber, 10)
    .option(
      '--lot-prefix <text>',
      'lot codes are <text>/1, <text>/2, ... (default ATXL): one prefix per demo database a process delivers',
    )
    .option('--visits <n>', 'historical visits', wholeNumber, 2000)
    .option('--days <n>', 'days of history', positiveNumber, 7)
    .option('--no-photos', 'store no photos')
    .option('--photo-rows <n>', 'most recent visits that carry photos', wholeNumber, 500)
    .option(
      '--photo-dir <dir>',
      'picture folder for the entry-exit style (set PHOTO_ROOT to it for the sync)',
    )
    .option(
      '--bad',
      'add deliberately bad rows (NULL plate, zero date, negative fee, unknown kind, missing photo)',
    )
    .option('--deleted-lots <n>', 'lots flagged deleted (entry-exit style)', wholeNumber, 0)
    .option('--seed <n>', 'random seed', wholeNumber, 1)
    .option('--time-zone <zone>', "the vendor's wall-clock zone", 'Asia/Shanghai')
    .option(
      '--if-missing',
      'create and seed the demo only when the database holds none yet; keep an existing one (container start-ups)',
    )
    .action(async (opts) => {
      if (opts.ifMissing) {
        if (await hasDemo(opts.url)) {
          console.log(`kept the existing demo in ${redactUrl(opts.url)}`);
          return;
        }
        const { createDemoSchema } = await demoTools();
        await createDemoSchema(opts.url, opts.style ?? 'visit-table');
      }
      const style = await styleAt(opts.url, opts.style);
      const { seedDemo } = await demoTools();
      // The flags are named as seedDemo's options: all but these three are passed on as they are.
      const { url, style: _style, ifMissing: _ifMissing, ...options } = opts;
      const report = await seedDemo(url, style, options);
      console.log(
        `seeded ${report.style} in ${redactUrl(opts.url)} in ${report.ms} ms: ${report.lots.length} lots, ` +
          `${report.entrances} entrances, ${report.departures} departures, ${report.inside} cars inside, ` +
          `${report.photos} photos, ${report.bad.length} bad rows`,
      );
      for (const bad of report.bad) console.log(`  bad row: ${bad.kind} (${bad.stream} ${bad.vendorKey})`);
    });

  vendor
    .command('traffic')
    .description('insert entrances, departures and space-count changes at a rate, like a live system')
    .addOption(styleOption())
    .addOption(urlOption())
    .option('--rate <n>', 'entrances plus departures per second', positiveNumber, 10)
    .option('--duration <time>', 'stop after this long (90s, 5m, 1h); default: until Ctrl-C', parseDuration)
    .option('--late-ratio <r>', 'share of transactions held open before committing', ratio, 0.05)
    .option('--hold <time>', 'how long a late transaction stays open (at most)', parseDuration, 3000)
    .option('--max-per-tx <n>', 'events per transaction, at most', wholeNumber, 5)
    .option('--no-photos', 'store no photos')
    .option('--photo-dir <dir>', 'picture folder for the entry-exit style')
    .option('--seed <n>', 'random seed', wholeNumber, 1)
    .option('--time-zone <zone>', "the vendor's wall-clock zone", 'Asia/Shanghai')
    .action(async (opts) => {
      const style = await styleAt(opts.url, opts.style);
      const { startTraffic } = await demoTools();
      const traffic = await startTraffic(opts.url, style, {
        ratePerSecond: opts.rate,
        durationMs: opts.duration,
        lateRatio: opts.lateRatio,
        holdMs: opts.hold,
        maxPerTransaction: opts.maxPerTx,
        photos: opts.photos,
        photoDir: opts.photoDir,
        seed: opts.seed,
        timeZone: opts.timeZone,
        record: false,
      });
      console.log(`traffic on ${redactUrl(opts.url)} (${style}) at ${opts.rate}/s; Ctrl-C stops`);
      const onSignal = () => void traffic.stop();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const timer = setInterval(() => {
        const c = traffic.counts();
        console.log(
          `  ${c.entrances} entrances, ${c.departures} departures, ${c.spotChanges} count corrections, ` +
            `${c.lateTransactions} late transactions, ${c.errors} errors`,
        );
      }, 5000);
      const report = await traffic.done;
      clearInterval(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const c = report.counts;
      console.log(
        `traffic stopped after ${((report.stoppedAt - report.startedAt) / 1000).toFixed(1)} s: ` +
          `${c.entrances} entrances, ${c.departures} departures (${report.achievedRate}/s), ` +
          `${c.spotChanges} count corrections, ${c.transactions} transactions (${c.lateTransactions} late), ${c.errors} errors`,
      );
      for (const error of report.errors) console.log(`  error: ${error}`);
      if (c.errors) process.exitCode = 1;
    });

  return vendor;
}
