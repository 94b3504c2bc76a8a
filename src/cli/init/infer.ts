/**
 * Long by design: one guess per mapping key, each with its evidence, in the order the mapping reads.
 *
 * Drafts a mapping from what information_schema and a few sample rows say: which tables hold lots,
 * counts, entrances and departures, which columns hold each field, how time and money are stored,
 * and what the car and pay type values are, mapped to ISP's codes where a guess is possible. Every
 * guess carries its evidence; what cannot be told from the schema is an open question. Pure: no
 * I/O, no YAML (render.ts writes the draft).
 */
import type { ColumnInfo, TableInfo } from '../../vendor-db/introspect.js';
import {
  type ColumnRole,
  IN_WORDS,
  isBlob,
  isDecimal,
  isInteger,
  OUT_WORDS,
  roleOf,
  timeFormatOf,
  valuesOf,
  words,
} from './columns.js';
import { dictionaryDraft, guessCarType, guessPayType } from './dictionaries.js';
import type { Classified, Draft, DraftStream, Guess, Roles } from './draft.js';

export type * from './draft.js';

export interface InferInput {
  database: string;
  zone: string;
  tables: TableInfo[];
  /** The vendor words config/default.yaml already maps (trimmed value -> code). */
  known: { carType: Record<string, string>; payType: Record<string, string> };
}

function classify(table: TableInfo): Classified {
  const roles: Roles = new Map();
  for (const c of table.columns) {
    const role = roleOf(c);
    if (role) roles.set(role, [...(roles.get(role) ?? []), c]);
  }
  return { table, roles };
}

const first = (t: Classified, role: ColumnRole) => t.roles.get(role)?.[0];
const has = (t: Classified, role: ColumnRole) => (t.roles.get(role)?.length ?? 0) > 0;
const named = (t: Classified, re: RegExp) => re.test(words(t.table.name));

export function inferDraft(input: InferInput): Draft {
  const tables = input.tables.map(classify);
  const open: string[] = [];
  const notes: string[] = [];
  const streams: Draft['streams'] = {};

  // Events: a visit table (entry and exit times in one row), or an entry and an exit table.
  const visits = biggest(tables.filter((t) => has(t, 'inTime') && has(t, 'outTime') && has(t, 'plate')));
  const entries = biggest(
    tables.filter((t) => has(t, 'inTime') && !has(t, 'outTime') && has(t, 'plate') && !named(t, OUT_WORDS)),
  );
  const exits = biggest(
    tables.filter((t) => has(t, 'outTime') && !has(t, 'inTime') && has(t, 'plate') && !named(t, IN_WORDS)),
  );
  let entranceTable: Classified | undefined;
  let departureTable: Classified | undefined;
  let how: string;
  if (entries && exits && (!visits || (visits.table.rows ?? 0) < (entries.table.rows ?? 0))) {
    entranceTable = entries;
    departureTable = exits;
    how = 'separate entry and exit tables';
  } else {
    entranceTable = visits ?? entries;
    departureTable = visits ?? exits;
    how = visits ? 'one row per visit (entry and exit time in one row)' : 'entry and exit tables';
  }

  // Lots: a table with a lot code and a name or coordinates, no event times.
  const lotCandidates = tables.filter(
    (t) =>
      has(t, 'parkCode') &&
      (has(t, 'parkName') || has(t, 'longitude')) &&
      !has(t, 'inTime') &&
      !has(t, 'outTime') &&
      !has(t, 'plate'),
  );
  const lots = lotCandidates.find((t) => named(t, /park|lot|parking/)) ?? lotCandidates.sort(byRows)[0];
  const countCandidates = tables.filter(
    (t) => has(t, 'parkCode') && has(t, 'total') && (has(t, 'used') || has(t, 'remain')) && !has(t, 'plate'),
  );
  const counts = countCandidates.find((t) => t === lots) ?? countCandidates[0];

  const code = lots ? lotCodeOf(lots, entranceTable ?? departureTable) : undefined;
  if (lots && code) streams.parks = parksStream(lots, code, open);
  else
    open.push(
      'no table looks like the lots (a lot code with a name or coordinates): write streams.parks by hand',
    );
  if (counts) streams.spotNums = spotNumsStream(counts, lots);
  else
    open.push(
      'no table holds space counts (a lot code, a total and used or free spaces): write streams.spotNums by hand',
    );

  const lotCode = code?.column.name;
  if (entranceTable) streams.entrances = entrancesStream(entranceTable, how, lotCode, open, notes);
  else open.push('no table holds entrances (a plate and an entry time): write streams.entrances by hand');
  if (departureTable) {
    const join = departureTable !== entranceTable && entranceTable ? entranceTable : undefined;
    streams.departures = departuresStream(departureTable, how, lotCode, join, open, notes);
  } else open.push('no table holds departures (a plate and an exit time): write streams.departures by hand');

  const carColumn =
    (departureTable && first(departureTable, 'carType')) ??
    (entranceTable && first(entranceTable, 'carType'));
  const payColumn = departureTable && first(departureTable, 'payType');
  const carTable = departureTable && first(departureTable, 'carType') ? departureTable : entranceTable;
  const dictionaries = {
    carType: dictionaryDraft(carTable, carColumn, tables, input.known.carType, guessCarType),
    payType: dictionaryDraft(departureTable, payColumn, tables, input.known.payType, guessPayType),
  };

  const urlHosts = photoUrlHosts([
    [entranceTable, streams.entrances],
    [departureTable, streams.departures],
  ]);
  const photo = urlHosts.length
    ? {
        urlAllowHosts: {
          value: JSON.stringify(urlHosts),
          why: `the photo URLs sampled point to ${urlHosts.join(', ')}`,
          confirm: 'photos may be fetched from these hosts (and no others)',
        },
      }
    : undefined;

  const used = new Set([lots, counts, entranceTable, departureTable].map((t) => t?.table.name));
  const skipped = input.tables.filter((t) => !used.has(t.name)).map((t) => t.name);
  if (skipped.length) notes.push(`tables not used: ${skipped.join(', ')}`);
  return {
    database: input.database,
    zone: input.zone,
    streams,
    dictionaries,
    ...(photo ? { photo } : {}),
    open,
    notes,
  };
}

function byRows(a: Classified, b: Classified): number {
  return (b.table.rows ?? 0) - (a.table.rows ?? 0);
}

function biggest(list: Classified[]): Classified | undefined {
  return [...list].sort(byRows)[0];
}

function guess(column: ColumnInfo | undefined, role: string, qualifier = ''): Guess | undefined {
  if (!column) return undefined;
  const comment = column.comment ? ` (comment "${column.comment}")` : '';
  return {
    value: `${qualifier}${column.name}`,
    why: `${role}: guessed from column name ${column.name}${comment}`,
  };
}

function setColumn(columns: Record<string, Guess>, field: string, g: Guess | undefined): void {
  if (g) columns[field] = g;
}

/**
 * The lot table's code column: the one holding the codes the event rows name (`park_code` of
 * t_entry in `code` of t_park), else the unique text column the name says is a code.
 */
function lotCodeOf(
  lots: Classified,
  events: Classified | undefined,
): { column: ColumnInfo; why: string } | undefined {
  const unique = (c: ColumnInfo) =>
    lots.table.indexes.some((i) => i.unique && i.columns.length === 1 && i.columns[0] === c.name);
  const eventColumn =
    events &&
    (first(events, 'parkCode') ?? events.table.columns.find((c) => /(?:^|_)park/.test(words(c.name))));
  const eventCodes = new Set(eventColumn ? valuesOf(events.table.samples, eventColumn.name) : []);
  let best: { column: ColumnInfo; hits: number } | undefined;
  for (const c of lots.table.columns) {
    const values = new Set(valuesOf(lots.table.samples, c.name));
    const hits = [...eventCodes].filter((v) => values.has(v)).length;
    if (hits > (best?.hits ?? 0)) best = { column: c, hits };
  }
  if (best && eventColumn) {
    return {
      column: best.column,
      why: `lot code: ${best.hits}/${eventCodes.size} lot codes sampled in ${events!.table.name}.${eventColumn.name} are in ${lots.table.name}.${best.column.name}${unique(best.column) ? ' (unique index)' : ''}`,
    };
  }
  const candidates = lots.roles.get('parkCode') ?? [];
  const column =
    candidates.find((c) => unique(c) && !isInteger(c)) ??
    candidates.find((c) => !isInteger(c)) ??
    candidates[0];
  return column
    ? {
        column,
        why: `lot code: guessed from column name ${column.name}${unique(column) ? ', unique index' : ''}`,
      }
    : undefined;
}

function parksStream(t: Classified, code: { column: ColumnInfo; why: string }, open: string[]): DraftStream {
  const columns: Record<string, Guess> = {};
  const unique = t.table.indexes.some(
    (i) => i.unique && i.columns[0] === code.column.name && i.columns.length === 1,
  );
  columns.parkCode = {
    value: code.column.name,
    why: code.why,
    ...(unique ? {} : { confirm: `${code.column.name} has no unique index: is it each lot's own code?` }),
  };
  if (!unique) open.push(`streams.parks.columns.parkCode: ${code.column.name} has no unique index`);
  setColumn(columns, 'parkName', guess(first(t, 'parkName'), 'lot name'));
  setColumn(columns, 'longitude', guess(first(t, 'longitude'), 'longitude'));
  setColumn(columns, 'latitude', guess(first(t, 'latitude'), 'latitude'));
  setColumn(columns, 'address', guess(first(t, 'address'), 'address'));
  setColumn(columns, 'deleted', guess(first(t, 'deleted'), 'soft-delete flag'));
  const settings: Record<string, Guess> = {};
  const lng = first(t, 'longitude');
  if (lng) {
    const text = `${lng.name} ${lng.comment}`.toLowerCase();
    if (/bd|baidu|百度/.test(text))
      settings.coordinateSystem = {
        value: 'BD09',
        why: `${lng.name}${lng.comment ? ` "${lng.comment}"` : ''} says Baidu (BD-09)`,
      };
    else if (/gcj|火星|高德|腾讯/.test(text))
      settings.coordinateSystem = { value: 'GCJ02', why: `${lng.name} comment "${lng.comment}" says GCJ-02` };
    else if (/wgs|gps/.test(text))
      settings.coordinateSystem = { value: 'WGS84', why: `${lng.name} comment "${lng.comment}" says WGS-84` };
    else {
      settings.coordinateSystem = {
        value: 'GCJ02',
        why: 'the coordinates do not say their system; GCJ-02 is what most Chinese maps use',
        confirm: 'the coordinate system (GCJ02, BD09 or WGS84)',
      };
      open.push('streams.parks.coordinateSystem');
    }
  }
  return {
    why: `lots: table ${t.table.name} (~${t.table.rows ?? '?'} rows${t.table.comment ? `, "${t.table.comment}"` : ''}) has a lot code${first(t, 'parkName') ? ' and a name' : ''}`,
    from: { value: t.table.name, why: 'lot table' },
    columns,
    settings,
  };
}

function spotNumsStream(t: Classified, lots: Classified | undefined): DraftStream {
  const columns: Record<string, Guess> = {};
  setColumn(columns, 'parkCode', guess(first(t, 'parkCode'), 'lot code'));
  setColumn(columns, 'total', guess(first(t, 'total'), 'total spaces'));
  const used = first(t, 'used');
  if (used) setColumn(columns, 'used', guess(used, 'used spaces'));
  else setColumn(columns, 'remain', guess(first(t, 'remain'), 'free spaces'));
  return {
    why: `space counts: table ${t.table.name} has a lot code, a total and ${used ? 'used' : 'free'} spaces${t === lots ? ' (the lot table itself)' : ''}`,
    from: { value: t.table.name, why: 'count table' },
    columns,
    settings: {},
  };
}

/** The id column of the keyset cursor: a one-column primary key. */
function idOf(t: Classified): ColumnInfo | undefined {
  const primary = t.table.indexes.find((i) => i.name === 'PRIMARY');
  if (primary?.columns.length !== 1) return undefined;
  return t.table.columns.find((c) => c.name === primary.columns[0]);
}

function cursorOf(
  t: Classified,
  time: ColumnInfo,
  q: string,
  open: string[],
  stream: string,
): { cursor: DraftStream['cursor']; timeFormat?: Guess } {
  const id = idOf(t);
  const format = timeFormatOf(time, t.table.samples);
  const index = t.table.indexes.find((i) => i.columns[0] === time.name);
  const cursor = {
    time: {
      value: `${q}${time.name}`,
      why: index
        ? `index ${index.name} (${index.columns.join(', ')}) serves the keyset cursor`
        : `no index starts with ${time.name}`,
      ...(index
        ? {}
        : {
            confirm: `ask the vendor's DBA for CREATE INDEX idx_${time.name}_${id?.name ?? 'id'} ON ${t.table.name} (${time.name}, ${id?.name ?? 'id'})`,
          }),
    },
    id: id
      ? { value: `${q}${id.name}`, why: `primary key ${id.name} of ${t.table.name}` }
      : {
          value: `${q}id`,
          why: `${t.table.name} has no one-column primary key`,
          confirm: 'a unique, growing id column',
        },
  };
  if (!index)
    open.push(`streams.${stream}.cursor.time: no index of ${t.table.name} starts with ${time.name}`);
  if (!id) open.push(`streams.${stream}.cursor.id: ${t.table.name} has no one-column primary key`);
  let timeFormat: Guess | undefined;
  if (format) timeFormat = { value: format.format, why: `${time.name}: ${format.why}` };
  else {
    timeFormat = {
      value: 'datetime',
      why: `${time.name} is ${time.columnType}`,
      confirm: 'how the time is stored',
    };
    open.push(
      `streams.${stream}.timeFormat: ${time.name} (${time.columnType}) is neither DATETIME nor Unix time`,
    );
  }
  return { cursor, timeFormat };
}

function lotCodeColumn(t: Classified, lotCode: string | undefined): ColumnInfo | undefined {
  return (
    (lotCode && t.table.columns.find((c) => c.name === lotCode)) ||
    first(t, 'parkCode') ||
    t.table.columns.find((c) => /(?:^|_)park/.test(words(c.name)) && !roleOf(c))
  );
}

/** The one column for `role` that reads entry (or exit) side, when a table has both. */
function sided(t: Classified, role: ColumnRole, side: RegExp): ColumnInfo | undefined {
  const all = t.roles.get(role) ?? [];
  return all.find((c) => side.test(words(c.name))) ?? (all.length === 1 ? all[0] : undefined);
}

function entrancesStream(
  t: Classified,
  how: string,
  lotCode: string | undefined,
  open: string[],
  notes: string[],
): DraftStream {
  const time = first(t, 'inTime')!;
  const { cursor, timeFormat } = cursorOf(t, time, '', open, 'entrances');
  const columns: Record<string, Guess> = {};
  setColumn(columns, 'parkCode', guess(lotCodeColumn(t, lotCode), 'lot code'));
  setColumn(columns, 'plateNumber', guess(sided(t, 'plate', IN_WORDS) ?? first(t, 'plate'), 'plate'));
  columns.enterTime = { value: time.name, why: `entry time: ${time.name}` };
  setColumn(columns, 'carType', guess(first(t, 'carType'), 'car type'));
  setColumn(columns, 'carLogo', guess(first(t, 'brand'), 'car brand'));
  const photo = photoOf(t, sided(t, 'photo', IN_WORDS), '', notes);
  return {
    why: `entrances: table ${t.table.name} (~${t.table.rows ?? '?'} rows), ${how}`,
    from: { value: t.table.name, why: 'entrance table' },
    cursor,
    ...(timeFormat ? { timeFormat } : {}),
    columns,
    ...(photo ? { photo } : {}),
    settings: {},
  };
}

function departuresStream(
  t: Classified,
  how: string,
  lotCode: string | undefined,
  entries: Classified | undefined,
  open: string[],
  notes: string[],
): DraftStream {
  // An exit table that points to its entry row (entry_id) is joined to it for the entry time.
  const entryId = entries ? idOf(entries) : undefined;
  const link = entryId ? t.table.columns.find((c) => c.name === entryId.name) : undefined;
  const joined = entries && entryId && link && !has(t, 'duration');
  const q = joined ? 'x.' : '';
  const time = first(t, 'outTime')!;
  const { cursor, timeFormat } = cursorOf(t, time, q, open, 'departures');
  const columns: Record<string, Guess> = {};
  setColumn(columns, 'parkCode', guess(lotCodeColumn(t, lotCode), 'lot code', q));
  const outPlate = sided(t, 'plate', OUT_WORDS);
  const inPlate = sided(t, 'plate', IN_WORDS);
  if (outPlate && inPlate && outPlate !== inPlate) {
    columns.plateNumber = {
      value: `COALESCE(NULLIF(${q}${outPlate.name}, ''), ${q}${inPlate.name})`,
      why: `plate: ${outPlate.name} at the exit, ${inPlate.name} when the exit camera read none`,
    };
  } else setColumn(columns, 'plateNumber', guess(outPlate ?? first(t, 'plate'), 'plate', q));
  columns.departTime = { value: `${q}${time.name}`, why: `exit time: ${time.name}` };
  const enter = first(t, 'inTime');
  if (enter)
    columns.enterTime = { value: `${q}${enter.name}`, why: `entry time of the visit: ${enter.name}` };
  else if (joined && entries) {
    const entryTime = first(entries, 'inTime')!;
    columns.enterTime = {
      value: `e.${entryTime.name}`,
      why: `entry time from ${entries.table.name}, joined on ${link!.name}`,
    };
  }
  setColumn(columns, 'carType', guess(first(t, 'carType'), 'car type', q));
  setColumn(columns, 'carLogo', guess(first(t, 'brand'), 'car brand', q));
  const settings: Record<string, Guess> = {};
  const duration = first(t, 'duration');
  if (duration) {
    columns.useTime = guess(duration, 'parking duration', q)!;
    const n = words(duration.name);
    settings.useTimeUnit = /sec|second/.test(n)
      ? { value: 'seconds', why: `${duration.name} says seconds` }
      : /min/.test(n) || /分钟/.test(duration.comment)
        ? { value: 'minutes', why: `${duration.name} says minutes` }
        : { value: 'minutes', why: `${duration.name} does not say its unit`, confirm: 'minutes or seconds' };
  }
  const payable = first(t, 'payable');
  const paid = first(t, 'paid');
  setColumn(columns, 'payableFee', guess(payable, 'fee due', q));
  setColumn(columns, 'paidFee', guess(paid, 'fee paid', q));
  setColumn(columns, 'payTime', guess(first(t, 'payTime'), 'pay time', q));
  setColumn(columns, 'payType', guess(first(t, 'payType'), 'pay type', q));
  const money = moneyUnitOf(
    t,
    [payable, paid].filter((c): c is ColumnInfo => c !== undefined),
  );
  if (money) {
    settings.moneyUnit = money;
    if (money.confirm) open.push(`streams.departures.moneyUnit: ${money.why}`);
  }
  const photo = photoOf(t, sided(t, 'photo', OUT_WORDS), q, notes);
  const from =
    joined && entries
      ? {
          value: `${t.table.name} x LEFT JOIN ${entries.table.name} e ON e.${entryId!.name} = x.${link!.name}`,
          why: `${t.table.name}.${link!.name} points to the entry row (primary key of ${entries.table.name})`,
        }
      : { value: t.table.name, why: 'departure table' };
  return {
    why: `departures: table ${t.table.name} (~${t.table.rows ?? '?'} rows), ${how}`,
    from,
    cursor,
    ...(timeFormat ? { timeFormat } : {}),
    columns,
    ...(photo ? { photo } : {}),
    settings,
  };
}

/** fen or yuan: DECIMAL is yuan; integers are fen when a comment says 分 or the values are large. */
function moneyUnitOf(t: Classified, fees: ColumnInfo[]): Guess | undefined {
  if (!fees.length) return undefined;
  const names = fees.map((c) => `${c.name} ${c.columnType}`).join(', ');
  if (fees.every(isDecimal)) return { value: 'yuan', why: `fees are decimals (${names}): yuan` };
  if (fees.some((c) => /分|fen|cent/i.test(c.comment)))
    return { value: 'fen', why: `fee comments say fen (${fees.map((c) => `"${c.comment}"`).join(', ')})` };
  if (fees.every(isInteger)) {
    const values = fees.flatMap((c) => valuesOf(t.table.samples, c.name).map(Number)).filter((n) => n > 0);
    const max = values.length ? Math.max(...values) : 0;
    const median = values.length ? values.sort((a, b) => a - b)[Math.floor(values.length / 2)]! : 0;
    if (median >= 100)
      return {
        value: 'fen',
        why: `fees are integers (${names}), median ${median} and up to ${max} in ${values.length} paid samples: fen (as yuan they would be ≫ a parking fee)`,
      };
    return {
      value: 'fen',
      why: `fees are integers (${names}) with small values (median ${median})`,
      confirm: 'fen or whole yuan',
    };
  }
  return { value: 'yuan', why: `fees are ${names}`, confirm: 'fen or yuan' };
}

function photoOf(
  t: Classified,
  column: ColumnInfo | undefined,
  q: string,
  notes: string[],
): DraftStream['photo'] | undefined {
  if (!column) return undefined;
  const values = valuesOf(t.table.samples, column.name);
  const n = values.length;
  const col = { value: `${q}${column.name}`, why: `photo: guessed from column name ${column.name}` };
  if (isBlob(column)) {
    return {
      column: col,
      source: {
        value: 'blob',
        why: `${column.columnType}: the image bytes (${n} of ${t.table.samples.length} samples hold one)`,
      },
    };
  }
  const urls = values.filter((v) => /^https?:\/\//i.test(v)).length;
  const base64 = values.filter((v) => /^data:image|^\/9j\/|^iVBOR/.test(v)).length;
  if (n && urls === n)
    return { column: col, source: { value: 'url', why: `${urls}/${n} samples are http(s) URLs` } };
  if (n && base64 === n)
    return { column: col, source: { value: 'base64', why: `${base64}/${n} samples are Base64 images` } };
  const paths = values.filter((v) => /[/\\]|\.(jpe?g|png|bmp)$/i.test(v)).length;
  if (n && paths === n) {
    notes.push(
      `photos are file paths (${column.name}): mount the picture folder read-only and set PHOTO_ROOT (photo.fileRoot)`,
    );
    return { column: col, source: { value: 'file', why: `${paths}/${n} samples are file paths` } };
  }
  return undefined;
}

/** The hosts the sampled photo URLs point to. */
function photoUrlHosts(sources: Array<[Classified | undefined, DraftStream | undefined]>): string[] {
  const hosts = new Set<string>();
  for (const [t, stream] of sources) {
    if (!t || stream?.photo?.source.value !== 'url') continue;
    const column = stream.photo.column.value.replace(/^\w+\./, '');
    for (const v of valuesOf(t.table.samples, column)) {
      try {
        hosts.add(new URL(v).host);
      } catch {
        // not a URL: photoOf counted it
      }
    }
  }
  return [...hosts].sort();
}
