/**
 * Everything the simulator accepted, per kind, in arrival order, with the receipt time (epoch ms)
 * of each record and the client whose token sent it, and for events a duplicate count by natural
 * key (a lot's state is meant to be sent again: lots.ts counts its refreshes). `full` keeps the
 * records; `light` keeps only keys, times and clients (for benchmarks: a million records in well
 * under 200 MB). Optionally appends each accepted record to a JSONL file, and a batch counts as
 * accepted only once its lines are written.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { KINDS, RECORD_KINDS, type RecordKind, type WireRecord } from './kinds.js';

export type StorageMode = 'full' | 'light';

export interface ReceivedEntry {
  key: string;
  /** Epoch ms the request holding the record had fully arrived (before any injected latency). */
  receivedAt: number;
  /** The client id of the bearer token the request came with (several clients may deliver). */
  clientId: string;
  /** The record as received (full storage only). */
  record?: WireRecord;
}

class KindLog {
  readonly keys: string[] = [];
  readonly times: number[] = [];
  /** Per record: the sender's client id (one string shared by its batch). */
  readonly clients: string[] = [];
  readonly records: WireRecord[] = [];
  readonly seen = new Set<string>();
  duplicates = 0;
}

export class ReceivedStore {
  private logs = freshLogs();
  private readonly jsonl: WriteStream | undefined;

  constructor(
    readonly mode: StorageMode,
    readonly jsonlFile?: string,
  ) {
    this.jsonl = jsonlFile ? createWriteStream(jsonlFile, { flags: 'a' }) : undefined;
  }

  async add(
    kind: RecordKind,
    records: readonly WireRecord[],
    receivedAt: number,
    clientId: string,
  ): Promise<void> {
    if (this.jsonl) {
      const lines = records
        .map((record) => JSON.stringify({ kind, receivedAt, clientId, record }))
        .join('\n');
      await new Promise<void>((resolve, reject) =>
        this.jsonl!.write(`${lines}\n`, (error) => (error ? reject(error) : resolve())),
      );
    }
    const log = this.logs[kind];
    const { key: keyOf, role } = KINDS[kind];
    for (const record of records) {
      const key = keyOf(record);
      if (role === 'event') {
        if (log.seen.has(key)) log.duplicates++;
        else log.seen.add(key);
      }
      log.keys.push(key);
      log.times.push(receivedAt);
      log.clients.push(clientId);
      if (this.mode === 'full') log.records.push(record);
    }
  }

  count(kind: RecordKind): number {
    return this.logs[kind].keys.length;
  }

  duplicates(kind: RecordKind): number {
    return this.logs[kind].duplicates;
  }

  /** Distinct natural keys seen (events only). */
  distinct(kind: RecordKind): number {
    return this.logs[kind].seen.size;
  }

  list(kind: RecordKind, offset = 0, limit = Number.POSITIVE_INFINITY): ReceivedEntry[] {
    const log = this.logs[kind];
    const end = Math.min(log.keys.length, offset + limit);
    const out: ReceivedEntry[] = [];
    for (let i = Math.max(0, offset); i < end; i++) {
      const entry: ReceivedEntry = {
        key: log.keys[i]!,
        receivedAt: log.times[i]!,
        clientId: log.clients[i]!,
      };
      if (this.mode === 'full') entry.record = log.records[i]!;
      out.push(entry);
    }
    return out;
  }

  /**
   * Forgets events by natural key, as if they had never arrived (rehearsing deliveries lost on the
   * way: a reconciliation must find them). Returns how many entries went.
   */
  forget(kind: RecordKind, keys: Iterable<string>): number {
    const gone = new Set(keys);
    const log = this.logs[kind];
    const kept = freshLogs()[kind];
    for (let i = 0; i < log.keys.length; i++) {
      const key = log.keys[i]!;
      if (gone.has(key)) continue;
      kept.keys.push(key);
      kept.times.push(log.times[i]!);
      kept.clients.push(log.clients[i]!);
      if (this.mode === 'full') kept.records.push(log.records[i]!);
      kept.seen.add(key);
    }
    const removed = log.keys.length - kept.keys.length;
    kept.duplicates = log.duplicates;
    this.logs[kind] = kept;
    return removed;
  }

  /** Forgets what was received (the JSONL file, an append-only log, is kept). */
  clear(): void {
    this.logs = freshLogs();
  }

  close(): Promise<void> {
    const jsonl = this.jsonl;
    if (!jsonl) return Promise.resolve();
    return new Promise((resolve) => jsonl.end(() => resolve()));
  }
}

function freshLogs(): Record<RecordKind, KindLog> {
  return Object.fromEntries(RECORD_KINDS.map((kind) => [kind, new KindLog()])) as Record<RecordKind, KindLog>;
}
