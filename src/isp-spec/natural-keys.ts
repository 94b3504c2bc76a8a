/**
 * Natural keys of delivered events (open point 10): ISP has no record id, so duplicates are ours to
 * prevent. The ledger, the simulator's duplicate count and the tests all use these functions.
 */
import type { Departure, Entrance } from './schemas.js';

export function entranceKey(e: Pick<Entrance, 'park_code' | 'plate_number' | 'enter_time'>): string {
  return `${e.park_code}|${e.plate_number}|${e.enter_time}`;
}

export function departureKey(d: Pick<Departure, 'park_code' | 'plate_number' | 'depart_time'>): string {
  return `${d.park_code}|${d.plate_number}|${d.depart_time}`;
}
