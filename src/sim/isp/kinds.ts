/**
 * The kinds of record the simulator receives, the endpoint each arrives on, the spec schema that
 * validates it, and the natural key its duplicates are counted by. Schemas and event keys come from
 * src/isp-spec; the keys of lots and counts are defined here because only the simulator counts them.
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

export type WireRecord = Record<string, unknown>;

export interface KindSpec {
  method: 'POST' | 'DELETE';
  path: string;
  /** Schema of one record (for park-deletion: of the whole body). */
  schema: z.ZodType;
  /** Duplicates are counted by this key. */
  key: (record: WireRecord) => string;
}

const field = (record: WireRecord, name: string) => String(record[name]);

export const KINDS: Record<RecordKind, KindSpec> = {
  park: { method: 'POST', path: ENDPOINTS.parks, schema: parkSchema, key: (r) => field(r, 'park_code') },
  'park-deletion': {
    method: 'DELETE',
    path: ENDPOINTS.parks,
    schema: parkDeletionSchema,
    key: (r) => field(r, 'park_code'),
  },
  // The same counts for the same lot again: a push that carried no change.
  'spot-num': {
    method: 'POST',
    path: ENDPOINTS.spotNums,
    schema: spotNumSchema,
    key: (r) =>
      `${field(r, 'park_code')}|${field(r, 'total_spots_num')}|${field(r, 'remain_spots_num')}|${field(r, 'used_spots_num')}`,
  },
  entrance: {
    method: 'POST',
    path: ENDPOINTS.entrances,
    schema: entranceSchema,
    key: (r) => entranceKey(r as Parameters<typeof entranceKey>[0]),
  },
  departure: {
    method: 'POST',
    path: ENDPOINTS.departures,
    schema: departureSchema,
    key: (r) => departureKey(r as Parameters<typeof departureKey>[0]),
  },
};

export function isRecordKind(value: unknown): value is RecordKind {
  return typeof value === 'string' && (RECORD_KINDS as readonly string[]).includes(value);
}
