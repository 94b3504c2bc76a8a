/**
 * Deterministic BullMQ job ids (no ":" allowed): the same vendor rows always give the same id, so
 * a poll repeated after a crash adds nothing while the first jobs still exist. (After they are
 * trimmed, the delivered-key ledger is what stops a second delivery.)
 */
import type { Cursor } from '../vendor-db/rows.js';

function part(value: string): string {
  return value.replace(/[^A-Za-z0-9_]/g, '');
}

export function cursorPart(cursor: Cursor): string {
  return `${part(cursor.time)}_${part(cursor.id)}`;
}

export function eventJobId(stream: string, first: Cursor, last: Cursor): string {
  return `${stream}-${cursorPart(first)}-${cursorPart(last)}`;
}

export function isolatedJobId(parentId: string, vendorKey: string): string {
  return `${parentId}-rejected-${part(vendorKey)}`;
}
