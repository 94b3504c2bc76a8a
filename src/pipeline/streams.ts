/**
 * The stream table: what differs between the four streams, as data. The rest of the pipeline asks
 * the table (`EVENT_STREAMS[stream].photoField`, `isEventStream(stream)`) instead of branching on a
 * stream's name, so adding a stream is adding a row here (docs/ARCHITECTURE.md, "Adding a stream").
 *
 * Event streams (entrances, departures) are read incrementally with a keyset cursor and delivered
 * record by record; lot streams (parks, spot counts) are small tables read whole and delivered as
 * the latest state per lot.
 */

import type { z } from 'zod';
import type { Config, EventStreamName, StreamName } from '../config/index.js';
import type { RawDeparture, RawEntrance, RawPark, RawSpotNum } from '../config/vendor-rows.js';
import {
  departureKey,
  departureSchema,
  describeIssues,
  entranceKey,
  entranceSchema,
} from '../isp-spec/index.js';
import {
  type DepartureDraft,
  type DepartureTransformed,
  type EntranceDraft,
  type TimeParser,
  type TransformContext,
  type Transformed,
  transformDeparture,
  transformEntrance,
  transformPark,
  transformSpotNum,
} from '../transform/index.js';
import { readParks, readSpotNums, type VendorPool } from '../vendor-db/index.js';
import { eventRecord, type Precedent, type RowOutcome } from './events/records.js';

export type { EventStreamName, StreamName };
export type LotStreamName = Exclude<StreamName, EventStreamName>;
export type EventRow = RawEntrance | RawDeparture;
export type LotRow = RawPark | RawSpotNum;

export interface EventStream {
  kind: 'events';
  /** The row → push record step: the stream's transform, its natural key and its event time. */
  toRecord(row: EventRow, ctx: TransformContext): RowOutcome;
  /** The push record of a payload transformed earlier (kept without its photo in the quarantine). */
  draftRecord(draft: unknown, vendorKey: string): RowOutcome;
  /** Where the photo goes in the payload (fetched and fitted at push time). */
  photoField: 'enter_pic' | 'depart_pic';
  /** Parses the stream's cursor-time text (how far the stream has read). */
  cursorTime(ctx: TransformContext): TimeParser;
  /** The per-lot field of the status page this stream's deliveries move. */
  lotActivity: 'lastEntrance' | 'lastDeparture';
  /**
   * The departure gate: this stream is read only up to the watermark of the stream it follows,
   * so no departure reaches ISP before its entrance. The followed stream's backfills hold it too.
   */
  follows?: EventStreamName;
}

/** A lot stream's row, transformed: the latest state of one lot, or why it cannot be sent. */
export interface LotRowOutcome {
  row: LotRow;
  /** Park code when known, even for a row that cannot be sent. */
  code?: string;
  item?: { code: string; payload: Record<string, unknown> };
  /** The vendor flags the lot as deleted. */
  deleted?: boolean;
  reasons?: Array<{ code: string; message: string }>;
}

export interface LotStream {
  kind: 'lots';
  /** Reads the whole table (small: one row per lot). */
  read(pool: VendorPool, config: Config): Promise<LotRow[]>;
  toItem(row: LotRow, ctx: TransformContext): LotRowOutcome;
  /** A lot that vanished from this stream is deleted at ISP (DELETE /park/spot). */
  deletesVanished: boolean;
  /** Deliveries set each lot's last count on the status page. */
  lotActivity?: 'lastSpotNum';
}

function eventStream<
  D extends EntranceDraft | DepartureDraft,
  T extends Transformed<D> = Transformed<D>,
>(def: {
  transform(row: EventRow, ctx: TransformContext): T;
  /** The event this one follows, from the transform's result (departures: their entrance). */
  precedent?(transformed: Extract<T, { ok: true }>): Precedent | undefined;
  draftSchema: z.ZodType<D>;
  key(draft: D): string;
  time(draft: D): number;
  photoField: EventStream['photoField'];
  cursorTime(ctx: TransformContext): TimeParser;
  lotActivity: EventStream['lotActivity'];
  follows?: EventStreamName;
}): EventStream {
  const recordOf = (draft: D, vendorKey: string) =>
    eventRecord(draft, def.key(draft), vendorKey, def.time(draft));
  return {
    kind: 'events',
    toRecord(row, ctx) {
      const t = def.transform(row, ctx);
      if (!t.ok) return { ok: false, reasons: t.reasons };
      const precedent = def.precedent?.(t as Extract<T, { ok: true }>);
      return { ok: true, record: recordOf(t.value as D, row.vendorKey), ...(precedent ? { precedent } : {}) };
    },
    draftRecord(draft, vendorKey) {
      const parsed = def.draftSchema.safeParse(draft);
      if (parsed.success) return { ok: true, record: recordOf(parsed.data, vendorKey) };
      return { ok: false, reasons: [{ code: 'bad-draft', message: describeIssues(parsed.error) }] };
    },
    photoField: def.photoField,
    cursorTime: def.cursorTime,
    lotActivity: def.lotActivity,
    ...(def.follows ? { follows: def.follows } : {}),
  };
}

function lotOutcome<T>(
  row: LotRow,
  t: Transformed<T>,
  item: (value: T) => { code: string; payload: Record<string, unknown>; deleted?: boolean },
): LotRowOutcome {
  if (!t.ok) {
    const code = row.parkCode == null ? undefined : String(row.parkCode).trim();
    return { row, ...(code ? { code } : {}), reasons: t.reasons };
  }
  const { deleted, ...sent } = item(t.value);
  return { row, code: sent.code, item: sent, deleted: deleted === true };
}

export const EVENT_STREAMS: Readonly<Record<EventStreamName, EventStream>> = {
  entrances: eventStream<EntranceDraft>({
    transform: transformEntrance,
    draftSchema: entranceSchema.omit({ enter_pic: true }),
    key: entranceKey,
    time: (d) => d.enter_time,
    photoField: 'enter_pic',
    cursorTime: (ctx) => ctx.entranceTime,
    lotActivity: 'lastEntrance',
  }),
  departures: eventStream<DepartureDraft, DepartureTransformed>({
    transform: transformDeparture,
    // Its entrance as the entrance stream keys it: the plate read at the exit (the entry plate when
    // the exit read none) and the visit's entrance time. A misread plate finds no entrance, and the
    // departure waits for the entrances' time instead (src/pipeline/events/departure-gate.ts).
    precedent: (t) =>
      t.enterTime === null
        ? undefined
        : {
            key: entranceKey({
              park_code: t.value.park_code,
              plate_number: t.value.plate_number,
              enter_time: t.enterTime,
            }),
            time: t.enterTime,
            ...(t.entranceId !== null ? { vendorKey: t.entranceId } : {}),
          },
    draftSchema: departureSchema.omit({ depart_pic: true }),
    key: departureKey,
    time: (d) => d.depart_time,
    photoField: 'depart_pic',
    cursorTime: (ctx) => ctx.departureTime,
    lotActivity: 'lastDeparture',
    follows: 'entrances',
  }),
};

export const LOT_STREAMS: Readonly<Record<LotStreamName, LotStream>> = {
  parks: {
    kind: 'lots',
    read: (pool, config) => readParks(pool, config.streams.parks),
    toItem: (row, ctx) =>
      lotOutcome(row, transformPark(row, ctx), (v) => ({
        code: v.park.park_code,
        payload: v.park,
        deleted: v.deleted,
      })),
    deletesVanished: true,
  },
  spotNums: {
    kind: 'lots',
    read: (pool, config) => readSpotNums(pool, config.streams.spotNums),
    toItem: (row, ctx) =>
      lotOutcome(row, transformSpotNum(row, ctx), (v) => ({ code: v.park_code, payload: v })),
    deletesVanished: false,
    lotActivity: 'lastSpotNum',
  },
};

export const EVENT_STREAM_NAMES = Object.keys(EVENT_STREAMS) as EventStreamName[];
export const LOT_STREAM_NAMES = Object.keys(LOT_STREAMS) as LotStreamName[];

export function isEventStream(stream: string): stream is EventStreamName {
  return Object.hasOwn(EVENT_STREAMS, stream);
}

export function isLotStream(stream: string): stream is LotStreamName {
  return Object.hasOwn(LOT_STREAMS, stream);
}

/** The streams whose reads wait for `stream` (the departure gate): departures follow entrances. */
export function followersOf(stream: EventStreamName): EventStreamName[] {
  return EVENT_STREAM_NAMES.filter((s) => EVENT_STREAMS[s].follows === stream);
}
