/**
 * What the simulator holds per lot, as ISP would: registered by POST /park/spot, deleted by DELETE
 * /park/spot (and registered again by a later POST), its current count with the time it was set,
 * and the records it accepted and refused for the lot. Fed only with batches the simulator stores,
 * and asked by the known-lots switch whether a batch names lots ISP does not hold. Knows nothing of
 * HTTP; times are receipt times (epoch ms) given by the caller.
 */
import type { LotDataKind, RecordKind, WireRecord } from './kinds.js';

/**
 * `registered`: a POST /park/spot was accepted and no DELETE since. `deleted`: a DELETE was
 * accepted after it (or, with the known-lots switch off, without one). `unregistered`: only data
 * arrived for the code (known-lots switch off).
 */
export type LotStatus = 'registered' | 'deleted' | 'unregistered';

export interface LotCount {
  total: number;
  remain: number;
  used: number;
  /** Receipt time of the request that set it. */
  at: number;
}

export type LotDataCounts = Record<LotDataKind, number>;

export interface LotState {
  parkCode: string;
  status: LotStatus;
  /** Receipt time of the last POST /park/spot accepted for the lot. */
  registeredAt: number | null;
  /** Receipt time of the DELETE that deleted it (null while registered). */
  deletedAt: number | null;
  /** The lot as last posted. */
  park: WireRecord | null;
  /** The current count; a DELETE clears it, as the lot is gone. */
  count: LotCount | null;
  /** Records accepted for the lot, by kind. */
  accepted: LotDataCounts;
  /** Records of batches refused because the lot was not registered (known-lots switch). */
  refused: LotDataCounts;
}

/** State records that repeated what the simulator already held. */
export type Refreshes = Record<Extract<RecordKind, 'park' | 'park-deletion' | 'spot-num'>, number>;

export interface UnknownLot {
  parkCode: string;
  /** Indexes of the batch's records naming it (none for a DELETE). */
  indexes: number[];
  lot: LotState | undefined;
}

export class LotRegistry {
  private readonly lots = new Map<string, LotState>();
  refreshes: Refreshes = zeroRefreshes();

  get(parkCode: string): LotState | undefined {
    return this.lots.get(parkCode);
  }

  /** Every lot the simulator heard of, in the order it first did. */
  list(): LotState[] {
    return [...this.lots.values()];
  }

  /** The lots a batch names that are not registered, each with the records naming it. */
  unregistered(codes: readonly string[]): UnknownLot[] {
    const found = new Map<string, UnknownLot>();
    codes.forEach((parkCode, index) => {
      const lot = this.lots.get(parkCode);
      if (lot?.status === 'registered') return;
      const entry = found.get(parkCode) ?? { parkCode, indexes: [], lot };
      entry.indexes.push(index);
      found.set(parkCode, entry);
    });
    return [...found.values()];
  }

  addParks(records: readonly WireRecord[], at: number): void {
    for (const record of records) {
      const lot = this.lot(String(record.park_code));
      if (lot.status === 'registered' && sameRecord(lot.park, record)) this.refreshes.park++;
      lot.status = 'registered';
      lot.registeredAt = at;
      lot.deletedAt = null;
      lot.park = record;
    }
  }

  deleteParks(codes: readonly string[], at: number): void {
    for (const code of codes) {
      const lot = this.lot(code);
      if (lot.status === 'deleted') {
        this.refreshes['park-deletion']++;
        continue;
      }
      lot.status = 'deleted';
      lot.deletedAt = at;
      lot.count = null;
    }
  }

  addData(kind: LotDataKind, records: readonly WireRecord[], at: number): void {
    for (const record of records) {
      const lot = this.lot(String(record.park_code));
      lot.accepted[kind]++;
      if (kind !== 'spot-num') continue;
      const count = {
        total: Number(record.total_spots_num),
        remain: Number(record.remain_spots_num),
        used: Number(record.used_spots_num),
      };
      const held = lot.count;
      if (held && held.total === count.total && held.remain === count.remain && held.used === count.used) {
        this.refreshes['spot-num']++;
      }
      lot.count = { ...count, at };
    }
  }

  noteRefused(kind: LotDataKind, unknown: readonly UnknownLot[]): void {
    for (const { parkCode, indexes } of unknown) this.lot(parkCode).refused[kind] += indexes.length;
  }

  clear(): void {
    this.lots.clear();
    this.refreshes = zeroRefreshes();
  }

  private lot(parkCode: string): LotState {
    let lot = this.lots.get(parkCode);
    if (!lot) {
      lot = {
        parkCode,
        status: 'unregistered',
        registeredAt: null,
        deletedAt: null,
        park: null,
        count: null,
        accepted: zeroData(),
        refused: zeroData(),
      };
      this.lots.set(parkCode, lot);
    }
    return lot;
  }
}

function sameRecord(a: WireRecord | null, b: WireRecord): boolean {
  if (!a) return false;
  const keys = Object.keys(b);
  return Object.keys(a).length === keys.length && keys.every((key) => a[key] === b[key]);
}

function zeroData(): LotDataCounts {
  return { 'spot-num': 0, entrance: 0, departure: 0 };
}

function zeroRefreshes(): Refreshes {
  return { park: 0, 'park-deletion': 0, 'spot-num': 0 };
}
