/**
 * The kinds of record the simulator receives, the endpoint each arrives on, the spec schema that
 * validates it, whether it is an event or a lot's state, its photo field, and the key it is listed
 * (and, for events, its duplicates counted) by. Schemas and event keys come from src/isp-spec; the
 * keys of lots and counts are defined here because only the simulator uses them.
 */
import type { z } from 'zod';
import {
  departureKey,
  departureSchema,
  ENDPOINTS,
  entranceKey,
  entranceSchema,
  parkDeletionSchema,
  parkSchema,
  spotNumSchema,
} from '../../isp-spec/index.js';

export const RECORD_KINDS = ['park', 'park-deletion', 'spot-num', 'entrance', 'departure'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** Kinds that carry data of one lot, which a strict ISP takes only for a lot it knows. */
export const LOT_DATA_KINDS = ['spot-num', 'entrance', 'departure'] as const;
export type LotDataKind = (typeof LOT_DATA_KINDS)[number];

export const EVENT_KINDS = ['entrance', 'departure'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export type WireRecord = Record<string, unknown>;

export interface KindSpec {
  method: 'POST' | 'DELETE';
  path: string;
  /** Schema of one record (for park-deletion: of the whole body). */
  schema: z.ZodType;
  /**
   * Events happen once: receiving one again is a duplicate. State (a lot, its deletion, its count)
   * is meant to be sent again: a repeat is a refresh, counted per lot (lots.ts).
   */
  role: 'event' | 'state';
  /** The record's natural key: the listing key, and the key event duplicates are counted by. */
  key: (record: WireRecord) => string;
  /** Field holding a Base64 photo. */
  photoField?: 'enter_pic' | 'depart_pic';
}

const field = (record: WireRecord, name: string) => String(record[name]);

export const KINDS: Record<RecordKind, KindSpec> = {
  park: {
    method: 'POST',
    path: ENDPOINTS.parks,
    schema: parkSchema,
    role: 'state',
    key: (r) => field(r, 'park_code'),
  },
  'park-deletion': {
    method: 'DELETE',
    path: ENDPOINTS.parks,
    schema: parkDeletionSchema,
    role: 'state',
    key: (r) => field(r, 'park_code'),
  },
  'spot-num': {
    method: 'POST',
    path: ENDPOINTS.spotNums,
    schema: spotNumSchema,
    role: 'state',
    key: (r) =>
      `${field(r, 'park_code')}|${field(r, 'total_spots_num')}|${field(r, 'remain_spots_num')}|${field(r, 'used_spots_num')}`,
  },
  entrance: {
    method: 'POST',
    path: ENDPOINTS.entrances,
    schema: entranceSchema,
    role: 'event',
    key: (r) => entranceKey(r as Parameters<typeof entranceKey>[0]),
    photoField: 'enter_pic',
  },
  departure: {
    method: 'POST',
    path: ENDPOINTS.departures,
    schema: departureSchema,
    role: 'event',
    key: (r) => departureKey(r as Parameters<typeof departureKey>[0]),
    photoField: 'depart_pic',
  },
};

export function isRecordKind(value: unknown): value is RecordKind {
  return typeof value === 'string' && (RECORD_KINDS as readonly string[]).includes(value);
}
