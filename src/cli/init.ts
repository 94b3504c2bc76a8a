/**
 * `init`: an onboarding assistant. Pointed at a vendor database, it reads information_schema and a
 * few of each table's newest rows (read-only pool, bounded reads: src/vendor-db/introspect.ts),
 * drafts the mapping (src/cli/init/infer.ts), writes it as a config layer file with its evidence
 * and open questions (src/cli/init/render.ts), then runs `check` and a `dry-run` of every stream on
 * it. Never writes to the vendor database; the draft never holds the database URL.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import {
  type Config,
  configSchema,
  DEFAULT_CONFIG_FILE,
  loadConfig,
  STREAM_NAMES,
  type StreamName,
} from '../config/index.js';
import { silentLogger } from '../log.js';
import { createRuntime } from '../pipeline/runtime.js';
import { redactUrl } from '../redact.js';
import { vendorPrivileges } from '../vendor-db/grants.js';
import { introspectVendor } from '../vendor-db/introspect.js';
import { createVendorPool } from '../vendor-db/pool.js';
import { positiveWhole } from './args.js';
import { printPrivileges, runCheck } from './check.js';
import { dryRun } from './dry-run.js';
import { type Draft, inferDraft } from './init/infer.js';
import { CONFIRM, renderDraft } from './init/render.js';

export interface InitOptions {
  vendorUrl: string;
  /** Where the draft goes; default config/sources/<database>.yaml under the working directory. */
  out?: string;
  zone?: string;
  /** Newest rows sampled per table. @defaultValue 200 */
  sampleRows?: number;
  /** Replace an existing file. */
  force?: boolean;
  /** Run check and dry-run on the draft. @defaultValue true */
  verify?: boolean;
  /** Layered over the draft for check and dry-run (tests: Redis prefix). */
  overrides?: Record<string, unknown>;
}

export interface DryRunSummary {
  stream: StreamName;
  rows: number;
  payloads: number;
  quarantine: Array<{ vendorKey: string; reasons: unknown }>;
  /** Events of lots ISP does not have yet (none registered before a first start). */
  held: number;
  heldBack?: string;
  error?: string;
}

export interface InitResult {
  file: string;
  draft: Draft;
  text: string;
  checkPassed?: boolean;
  dryRuns: DryRunSummary[];
}

export async function runInit(options: InitOptions, print: (line: string) => void): Promise<InitResult> {
  const zone = options.zone ?? 'Asia/Shanghai';
  const vendor = configSchema.shape.vendor.parse({ url: options.vendorUrl, timeZone: zone });
  // The draft's source is the default one (its file may rename it); drafting reads no stream rows.
  const pool = createVendorPool(vendor, { source: configSchema.shape.source.parse(undefined).name });
  let draft: Draft;
  try {
    print(`vendor database ${pool.where}`);
    printPrivileges(await vendorPrivileges(pool), pool.database, print);
    const tables = await introspectVendor(pool, { sampleRows: options.sampleRows ?? 200 });
    print(
      `read ${tables.length} tables: ${tables.map((t) => `${t.name} (~${t.rows ?? '?'} rows)`).join(', ')}`,
    );
    draft = inferDraft({ database: pool.database, zone, tables, known: defaultDictionaries() });
  } finally {
    await pool.close().catch(() => undefined);
  }

  const file = resolve(options.out ?? `config/sources/${draft.database}.yaml`);
  if (existsSync(file) && !options.force) {
    throw new Error(`${file} exists; choose another --out, or --force to replace it`);
  }
  const text = renderDraft(draft, {
    command: `isp-park-sync init --vendor-url ${redactUrl(options.vendorUrl)}`,
    writtenAt: new Date().toISOString().slice(0, 10),
  });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  const questions = text.split('\n').filter((l) => l.includes(CONFIRM)).length;
  print(`draft written to ${file}: ${questions} open question(s) marked "${CONFIRM}"`);
  for (const [name, stream] of Object.entries(draft.streams)) print(`  ${name}: ${stream.why}`);

  const result: InitResult = { file, draft, text, dryRuns: [] };
  if (options.verify === false) return result;
  const config = loadConfig({
    files: [file],
    overrides: { vendor: { url: options.vendorUrl }, ...(options.overrides ?? {}) },
  });
  print('');
  print(`check on the draft (isp-park-sync -c ${file} check):`);
  result.checkPassed = await runCheck(config, (line) => print(`  ${line}`));
  result.dryRuns = await dryRunAll(config, print);
  return result;
}

/** A dry run of every stream on the draft, summed up; Redis unreachable is said, not thrown. */
async function dryRunAll(config: Config, print: (line: string) => void): Promise<DryRunSummary[]> {
  print('');
  print('dry-run on the draft (nothing sent, no checkpoint moved):');
  const rt = createRuntime(config, { logger: silentLogger, readOnly: true });
  const out: DryRunSummary[] = [];
  try {
    for (const stream of STREAM_NAMES) {
      try {
        const r = await dryRun(rt, stream, 20);
        const summary: DryRunSummary = {
          stream,
          rows: r.rows,
          payloads: r.payloads.length,
          quarantine: r.quarantine,
          held: 'held' in r ? r.held.length : 0,
          ...('heldBack' in r && r.heldBack ? { heldBack: r.heldBack } : {}),
        };
        out.push(summary);
        print(
          `  ${stream}: ${r.rows} rows read, ${r.payloads.length} payloads, ${summary.held} held until their lot is registered, ${r.quarantine.length} quarantined` +
            (summary.heldBack ? ` (${summary.heldBack})` : ''),
        );
        for (const q of r.quarantine.slice(0, 3)) print(`    ${q.vendorKey}: ${JSON.stringify(q.reasons)}`);
      } catch (error) {
        out.push({ stream, rows: 0, payloads: 0, quarantine: [], held: 0, error: (error as Error).message });
        print(`  ${stream}: FAILED: ${(error as Error).message}`);
      }
    }
  } finally {
    await rt.close();
  }
  return out;
}

/** The vendor words every deployment's dictionaries already map (config/default.yaml). */
function defaultDictionaries(): { carType: Record<string, string>; payType: Record<string, string> } {
  const tree = parseYaml(readFileSync(DEFAULT_CONFIG_FILE, 'utf8')) as {
    dictionaries?: Record<string, { map?: Record<string, string> }>;
  };
  return {
    carType: tree.dictionaries?.carType?.map ?? {},
    payType: tree.dictionaries?.payType?.map ?? {},
  };
}

export function initCommand(): Command {
  return new Command('init')
    .description(
      'draft a mapping from a vendor database (read-only): tables, columns, time and money formats, dictionaries, with the evidence; then check and dry-run it',
    )
    .option('--vendor-url <url>', 'mysql://user:password@host:3306/db (default: VENDOR_DB_URL)')
    .option('--out <file>', 'where to write the draft (default: config/sources/<database>.yaml)')
    .option('--zone <zone>', 'the zone the vendor writes its times in', 'Asia/Shanghai')
    .option('--sample-rows <n>', 'newest rows sampled per table', positiveWhole, 200)
    .option('--force', 'replace the file if it exists')
    .option('--no-verify', 'do not run check and dry-run on the draft')
    .action(
      async (opts: {
        vendorUrl?: string;
        out?: string;
        zone: string;
        sampleRows: number;
        force?: boolean;
        verify: boolean;
      }) => {
        const vendorUrl = opts.vendorUrl ?? process.env.VENDOR_DB_URL;
        if (!vendorUrl)
          throw new Error('init: give --vendor-url mysql://user:password@host:3306/db (or VENDOR_DB_URL)');
        const result = await runInit(
          {
            vendorUrl,
            zone: opts.zone,
            sampleRows: opts.sampleRows,
            verify: opts.verify,
            ...(opts.out ? { out: opts.out } : {}),
            ...(opts.force ? { force: true } : {}),
          },
          (line) => console.log(line),
        );
        if (result.checkPassed === false) process.exitCode = 1;
      },
    );
}
