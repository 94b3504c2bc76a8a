/**
 * The simulator's state behind its HTTP face: received records, per-lot state, tokens, faults,
 * strictness switches and counters, with the operations the admin API and tests use. Knows
 * nothing of HTTP.
 */
import { applyFaultsPatch, type Faults, type FaultsPatch } from './faults.js';
import { EVENT_KINDS, type EventKind, RECORD_KINDS, type RecordKind } from './kinds.js';
import { LotRegistry, type LotState, type LotStatus, type Refreshes } from './lots.js';
import { type ReceivedEntry, ReceivedStore, type StorageMode } from './store.js';
import { applyStrictPatch, DEFAULT_STRICTNESS, type Strictness, type StrictPatch } from './strict.js';
import { TokenIssuer } from './tokens.js';

/** Answers given, by class. */
export interface RequestCounters {
  /** Requests to ISP endpoints (token endpoint included). */
  total: number;
  accepted: number;
  /** Code 1: invalid body, a reject rule, a strictness switch (HTTP 413 included). */
  rejected: number;
  /** Of `rejected`: batches naming a lot that is not registered (known-lots switch). */
  rejectedUnknownLot: number;
  /** Of `rejected`: batches with a photo that does not decode (decode-photos switch). */
  rejectedPhoto: number;
  /** Of `rejected`: bodies over `maxBodyBytes` (or the server's own limit), answered HTTP 413. */
  tooLarge: number;
  /** No, unknown or expired token: HTTP 401, or code 401 in an HTTP 200 (unauthorizedInBody). */
  unauthorized: number;
  http500: number;
  http429: number;
  dropped: number;
  droppedAfterAccept: number;
  /** Connections reset during a down window. */
  down: number;
  /** Tokens issued (since start or the last reset). */
  tokensIssued: number;
  tokensRefused: number;
}

/** One token request, without its secrets: what the client sent and how. */
export interface TokenRequestRecord {
  at: number;
  contentType: string;
  clientAuth: 'basic' | 'body' | 'none';
  /** The client id sent (Basic or body; undefined: none). Not a secret, unlike the fields' values. */
  clientId: string | undefined;
  grantType: string | undefined;
  /** Names of the fields sent (values are not kept). */
  fields: string[];
  result: 'issued' | 'refused';
}

export interface SimStats {
  storage: StorageMode;
  received: Record<RecordKind, number>;
  /** Events whose natural key was seen before. */
  duplicates: Record<EventKind, number>;
  /**
   * Lots, deletions and counts that repeated the state already held (a full sync, a count re-sent
   * unchanged): state is meant to be sent again, so these are not duplicates.
   */
  refreshes: Refreshes;
  /** Lots by status (GET /_sim/lots for each one). */
  lots: Record<LotStatus, number>;
  requests: RequestCounters;
  /** Current switches (`downUntil` 0 = up). */
  faults: Faults;
  strict: Strictness;
}

const MAX_TOKEN_REQUESTS_KEPT = 1000;

export class SimulatorState {
  readonly store: ReceivedStore;
  readonly lots = new LotRegistry();
  readonly tokens = new TokenIssuer();
  readonly tokenRequests: TokenRequestRecord[] = [];
  counters: RequestCounters = zeroCounters();
  private current: Faults;
  private currentStrict: Strictness;

  constructor(
    storage: StorageMode,
    jsonlFile: string | undefined,
    /** Switches at start; PUT /_sim/faults and reset go back to these. */
    private readonly baseline: Faults,
    private readonly now: () => number = Date.now,
    /** Strictness at start; PUT /_sim/strict and reset go back to it. */
    private readonly strictBaseline: Strictness = DEFAULT_STRICTNESS,
  ) {
    this.store = new ReceivedStore(storage, jsonlFile);
    this.current = { ...baseline };
    this.currentStrict = { ...strictBaseline };
  }

  get faults(): Faults {
    return this.current;
  }

  get strict(): Strictness {
    return this.currentStrict;
  }

  /** Replaces the strictness switches: the start-time ones with `patch` applied. */
  setStrict(patch: StrictPatch): Strictness {
    this.currentStrict = applyStrictPatch(this.strictBaseline, patch);
    return this.currentStrict;
  }

  /** Changes only the strictness switches named in `patch`. */
  patchStrict(patch: StrictPatch): Strictness {
    this.currentStrict = applyStrictPatch(this.currentStrict, patch);
    return this.currentStrict;
  }

  /** One lot's state (undefined: the simulator never heard of it). */
  lot(parkCode: string): LotState | undefined {
    return this.lots.get(parkCode);
  }

  /** Replaces the switches: the start-time ones with `patch` applied. */
  setFaults(patch: FaultsPatch): Faults {
    this.current = applyFaultsPatch(this.baseline, patch, this.now());
    return this.current;
  }

  /** Changes only the switches named in `patch`. */
  patchFaults(patch: FaultsPatch): Faults {
    this.current = applyFaultsPatch(this.current, patch, this.now());
    return this.current;
  }

  received(kind: RecordKind, offset?: number, limit?: number): ReceivedEntry[] {
    return this.store.list(kind, offset, limit);
  }

  stats(): SimStats {
    const received = {} as Record<RecordKind, number>;
    for (const kind of RECORD_KINDS) received[kind] = this.store.count(kind);
    const duplicates = {} as Record<EventKind, number>;
    for (const kind of EVENT_KINDS) duplicates[kind] = this.store.duplicates(kind);
    const lots: Record<LotStatus, number> = { registered: 0, deleted: 0, unregistered: 0 };
    for (const lot of this.lots.list()) lots[lot.status]++;
    return {
      storage: this.store.mode,
      received,
      duplicates,
      refreshes: { ...this.lots.refreshes },
      lots,
      requests: { ...this.counters, tokensIssued: this.tokens.issued },
      faults: this.current,
      strict: this.currentStrict,
    };
  }

  noteTokenRequest(record: TokenRequestRecord): void {
    this.tokenRequests.push(record);
    if (this.tokenRequests.length > MAX_TOKEN_REQUESTS_KEPT) this.tokenRequests.shift();
    if (record.result === 'refused') this.counters.tokensRefused++;
  }

  /** Forgets received records, lots and counters, and goes back to the start-time switches. Tokens stay valid. */
  reset(): void {
    this.store.clear();
    this.lots.clear();
    this.currentStrict = { ...this.strictBaseline };
    this.counters = zeroCounters();
    this.tokenRequests.length = 0;
    this.tokens.issued = 0;
    this.current = { ...this.baseline };
  }

  expireTokens(): void {
    this.tokens.expireAll(this.now());
  }
}

function zeroCounters(): RequestCounters {
  return {
    total: 0,
    accepted: 0,
    rejected: 0,
    rejectedUnknownLot: 0,
    rejectedPhoto: 0,
    tooLarge: 0,
    unauthorized: 0,
    http500: 0,
    http429: 0,
    dropped: 0,
    droppedAfterAccept: 0,
    down: 0,
    tokensIssued: 0,
    tokensRefused: 0,
  };
}
