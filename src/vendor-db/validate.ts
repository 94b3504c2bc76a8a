/**
 * Checks at start that every stream's config fits the vendor schema: the FROM clause, the WHERE,
 * each column expression, the cursor and the photo column are tried against the server with an
 * impossible WHERE (no row is read). Each problem names the config key and the table, e.g.
 * `streams.entrances.columns.plateNumber: unknown column 'in_plat' in car_inout`.
 *
 * Must not write to the vendor database.
 */
import type { Config, StreamName } from '../config/index.js';
import { STREAM_NAMES } from '../config/index.js';
import { VendorQueryError, VendorSchemaError } from './errors.js';
import { columnRef, describeTables, tableFor } from './from-clause.js';
import type { VendorPool } from './pool.js';
import { buildProbeQuery } from './stream-sql.js';

/** mysql2 column type numbers, grouped by what a cursor time column may be. */
const DATE_TYPES = new Set([7, 10, 12, 14, 18, 17]); // TIMESTAMP, DATE, DATETIME, NEWDATE, DATETIME2, TIMESTAMP2
const NUMBER_TYPES = new Set([1, 2, 3, 8, 9, 246, 0, 4, 5]); // ints, DECIMAL, FLOAT, DOUBLE

interface Probe {
  key: string;
  expr: string;
  /** Cursor time: the column type must fit the stream's timeFormat. */
  timeFormat?: Config['streams']['entrances']['timeFormat'];
}

/** Every problem found, each naming a config key; empty when all streams fit. */
export async function validateStreams(pool: VendorPool, config: Config): Promise<string[]> {
  const problems: string[] = [];
  for (const name of STREAM_NAMES) problems.push(...(await validateStream(pool, config, name)));
  return problems;
}

/** validateStreams, throwing a VendorSchemaError listing every problem. */
export async function assertStreamsValid(pool: VendorPool, config: Config): Promise<void> {
  const problems = await validateStreams(pool, config);
  if (problems.length) throw new VendorSchemaError(problems);
}

async function validateStream(pool: VendorPool, config: Config, name: StreamName): Promise<string[]> {
  const cfg = config.streams[name];
  const base = `streams.${name}`;
  const fromProblem = await tryProbe(pool, cfg.from, '1', undefined);
  if (fromProblem) return [`${base}.from: ${fromProblem}`];
  if (cfg.where) {
    const whereProblem = await tryProbe(pool, cfg.from, '1', cfg.where);
    if (whereProblem) return [`${base}.where: ${whereProblem}`];
  }
  const probes: Probe[] = Object.entries(cfg.columns as Record<string, string | undefined>)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([field, expr]) => ({ key: `${base}.columns.${field}`, expr }));
  if ('cursor' in cfg) {
    probes.push({ key: `${base}.cursor.time`, expr: cfg.cursor.time, timeFormat: cfg.timeFormat });
    probes.push({ key: `${base}.cursor.id`, expr: cfg.cursor.id });
    if (cfg.photo) probes.push({ key: `${base}.photo.column`, expr: cfg.photo.column });
  }
  const problems: string[] = [];
  for (const probe of probes) {
    const problem = await tryProbe(pool, cfg.from, probe.expr, undefined, probe.timeFormat);
    if (problem) problems.push(`${probe.key}: ${problem}`);
  }
  if (problems.length === 0 && 'probeIdGaps' in cfg && cfg.probeIdGaps) {
    const problem = await autoIncrementProblem(pool, cfg.from, cfg.cursor.id);
    if (problem) problems.push(`${base}.probeIdGaps: ${problem}`);
  }
  return problems;
}

/**
 * The id-gap probe finds late rows by the ids they leave out: the cursor id must be a table's
 * AUTO_INCREMENT column (ids handed out as rows are inserted). Undefined when it is.
 */
async function autoIncrementProblem(
  pool: VendorPool,
  from: string,
  idExpr: string,
): Promise<string | undefined> {
  const ref = columnRef(idExpr);
  const table = ref ? tableFor(from, ref.qualifier) : undefined;
  if (!ref || !table || table.derived) {
    return `cursor.id ${idExpr} is not a column of one table in ${from}: the probe needs a table's AUTO_INCREMENT id (remove probeIdGaps)`;
  }
  const rows = await pool.execute<{ extra: string }>(
    'SELECT EXTRA AS extra FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?',
    [table.table, ref.column],
    'validate',
  );
  if (rows.some((r) => /auto_increment/i.test(String(r.extra)))) return undefined;
  return (
    `cursor.id ${idExpr} is not an AUTO_INCREMENT column of ${table.table}: the probe finds rows committed late ` +
    'by the gaps they leave in ids handed out as rows are inserted (remove probeIdGaps; the sweep still catches them)'
  );
}

/** Runs one probe; a problem text, or undefined when the expression resolves. */
async function tryProbe(
  pool: VendorPool,
  from: string,
  expr: string,
  where: string | undefined,
  timeFormat?: Probe['timeFormat'],
): Promise<string | undefined> {
  try {
    const { fields } = await pool.queryWithFields(buildProbeQuery(from, expr, where), [], 'validate');
    const type = fields[0]?.columnType;
    if (timeFormat && type !== undefined) return timeTypeProblem(expr, type, timeFormat);
    return undefined;
  } catch (error) {
    if (!(error instanceof VendorQueryError)) throw error;
    return explainServerError(error, from, pool.database);
  }
}

function timeTypeProblem(
  expr: string,
  type: number,
  format: NonNullable<Probe['timeFormat']>,
): string | undefined {
  if (format === 'datetime' && NUMBER_TYPES.has(type)) {
    return `${expr} holds numbers, but timeFormat is 'datetime' (set timeFormat: epoch-s or epoch-ms)`;
  }
  if (format !== 'datetime' && DATE_TYPES.has(type)) {
    return `${expr} is a date/time column, but timeFormat is '${format}' (set timeFormat: datetime)`;
  }
  return undefined;
}

/** The server's complaint, said in terms of the config: which table or column is missing. */
export function explainServerError(error: VendorQueryError, from: string, database: string): string {
  const message = error.serverMessage;
  if (error.code === 'ER_BAD_FIELD_ERROR') {
    const column = /Unknown column '([^']+)'/i.exec(message)?.[1] ?? '?';
    const ref = columnRef(column);
    const table = describeTables(from, ref?.qualifier);
    const where = /in '(on clause|ON)'/i.test(message) ? ' (in the join condition)' : '';
    return `unknown column '${ref?.column ?? column}' in ${table}${where}`;
  }
  if (error.code === 'ER_NO_SUCH_TABLE') {
    const table = /Table '(?:[^'.]+\.)?([^']+)' doesn't exist/i.exec(message)?.[1] ?? '?';
    return `unknown table '${table}' in database ${database}`;
  }
  if (error.code === 'ER_TABLEACCESS_DENIED_ERROR' || error.code === 'ER_COLUMNACCESS_DENIED_ERROR') {
    return `no SELECT privilege: ${message} (GRANT SELECT ON ${database}.* TO the sync's user)`;
  }
  if (error.code === 'ER_PARSE_ERROR') return `not valid SQL: ${message}`;
  return message;
}
