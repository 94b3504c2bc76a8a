/**
 * The shape of a draft mapping: each value with the evidence it was chosen on, and the open
 * questions. infer.ts and dictionaries.ts build it, render.ts writes it.
 */
import type { ColumnInfo, TableInfo } from '../../vendor-db/introspect.js';
import type { ColumnRole } from './columns.js';

/** One value of the draft and why it was chosen; `confirm` makes it an open question. */
export interface Guess {
  value: string;
  why: string;
  confirm?: string;
}

export interface DraftStream {
  /** Why this table was taken for the stream. */
  why: string;
  from: Guess;
  cursor?: { time: Guess; id: Guess };
  timeFormat?: Guess;
  columns: Record<string, Guess>;
  photo?: { column: Guess; source: Guess };
  /** Other keys of the stream: moneyUnit, useTimeUnit, coordinateSystem. */
  settings: Record<string, Guess>;
}

export interface DictionaryEntry {
  value: string;
  /** How often it occurs in the sampled rows. */
  count: number;
  code?: string;
  why: string;
  /** Already mapped by the dictionaries every deployment has (config/default.yaml). */
  known: boolean;
}

export interface DictionaryDraft {
  /** The column read, e.g. `car_inout.car_kind`. */
  column?: string;
  sampled: number;
  entries: DictionaryEntry[];
}

export type DraftStreamName = 'parks' | 'spotNums' | 'entrances' | 'departures';

export interface Draft {
  database: string;
  zone: string;
  streams: Partial<Record<DraftStreamName, DraftStream>>;
  dictionaries: { carType: DictionaryDraft; payType: DictionaryDraft };
  /** Settings outside the streams, e.g. photo.urlAllowHosts. */
  photo?: { urlAllowHosts?: Guess };
  /** What the draft could not decide and the operator must answer. */
  open: string[];
  /** Things worth knowing that are not questions (photo folder, tables left out). */
  notes: string[];
}

/** A table with its columns grouped by the role their names suggest. */
export type Roles = Map<ColumnRole, ColumnInfo[]>;

export interface Classified {
  table: TableInfo;
  roles: Roles;
}
