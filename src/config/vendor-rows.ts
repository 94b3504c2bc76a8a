/**
 * What a vendor reader hands to the transforms: one row per record, with the canonical field names
 * of the stream's `columns` config (parkCode, plateNumber, enterTime, ...) holding the vendor's raw
 * values as mysql2 returns them with `dateStrings: true` and big numbers as strings: DATETIMEs as
 * 'YYYY-MM-DD HH:mm:ss' strings, DECIMALs as strings, integers as numbers, NULL as null. Photos are
 * not read here (they are fetched at push time by `vendorKey`).
 *
 * Event rows also carry `cursorTime` and `vendorKey` as the server's own text of the cursor columns
 * (`CAST(... AS CHAR)`): what a Cursor holds and what the next page compares with.
 */
import type { Config } from './index.js';

export type RawValue = string | number | null;

type ColumnsOf<S extends keyof Config['streams']> = keyof Config['streams'][S]['columns'];

export type RawRow<S extends keyof Config['streams']> = {
  [K in ColumnsOf<S>]?: RawValue;
} & {
  /** The vendor's unique id of the row (cursor id for event streams, park code for lots), as text. */
  vendorKey: string;
};

export type RawPark = RawRow<'parks'>;
export type RawSpotNum = RawRow<'spotNums'>;
export type RawEntrance = RawRow<'entrances'> & { cursorTime: string };
export type RawDeparture = RawRow<'departures'> & { cursorTime: string };

/** A keyset position: the cursor time column's raw text and the id, both as the DB returned them. */
export interface Cursor {
  time: string;
  id: string;
}
