/**
 * Long by design: one traffic loop with its transactions, late commits and count corrections.
 *
 * Drives a demo vendor database like a live parking system: cars enter and leave at a chosen rate
 * (entrances and departures per second), each lot's occupied count follows, and now and then a
 * count is corrected by hand. Events are committed in transactions of varying length; a share of
 * them is held open for seconds on a separate connection, so their rows commit late with older
 * timestamps — the case the readers' commit-lag guard exists for.
 *
 * A library first (tests, the demo and benchmarks start and stop it and get back exactly what was
 * committed), and the `vendor traffic` command. Writes only to databases carrying the demo marker.
 */
import type mysql from 'mysql2/promise';
import { createRandom, leave, makeVisit, type Random, type Visit, wallClock } from './data.js';
import { type PhotoPool, photoPool } from './photo-pool.js';
import { demoStyle, demoStyleOf } from './schema.js';
import { connectWriter, type DemoStyleName, type LotState, type PhotoSink } from './style.js';

export interface TrafficOptions {
  /** Entrances plus departures per second. @defaultValue 10 */
  ratePerSecond?: number;
  /** Stop by itself after this long; without it, run until stop(). */
  durationMs?: number;
  /** Share of transactions held open before committing (late rows). @defaultValue 0.05 */
  lateRatio?: number;
  /**
   * A late transaction stays open between half of this and this long, ms. Below the sync's
   * vendor.commitLagSeconds less 1 s (whole-second stamps; default lag 5 s) nothing is missed;
   * above it, rows are (that is what the guard's setting is about). @defaultValue 3000
   */
  holdMs?: number;
  /**
   * Late transactions open at once; a transaction drawn late while all are open is an ordinary
   * one. 1 makes late rows rare (~0.3% of events at 500 events/s with the default ratio); raise it
   * for `lateRatio` to be the share of transactions that commit late. @defaultValue 1
   */
  lateConcurrency?: number;
  /**
   * Late transactions stamp their rows this long before they write them (a gate controller
   * writing an event it recorded earlier), on top of holding the transaction open. @defaultValue 0
   */
  backdateMs?: number;
  /** Events per transaction: 1 to this many. @defaultValue 5 */
  maxPerTransaction?: number;
  /** Chance, per transaction, of an extra hand correction of a lot's count. @defaultValue 0.05 */
  spotChangeRatio?: number;
  /** Store photos (BLOBs, or files under photoDir for the entry-exit style). @defaultValue true */
  photos?: boolean;
  photoDir?: string;
  /** The vendor's wall-clock zone. @defaultValue 'Asia/Shanghai' */
  timeZone?: string;
  /** @defaultValue 1 */
  seed?: number;
  /** Keep every committed event in the report. @defaultValue true */
  record?: boolean;
}

export interface TrafficEvent {
  stream: 'entrances' | 'departures';
  /** The stream's cursor id of the row. */
  vendorKey: string;
  parkCode: string;
  /** The plate the stream shows (departures: the exit plate, or the entry plate when unread). */
  plateNumber: string;
  /** Vendor wall-clock time written in the row. */
  time: string;
  epoch: number;
  /** When the transaction committed, Unix ms. */
  committedAt: number;
  /** Committed by a transaction held open (later than rows with newer timestamps). */
  late: boolean;
}

export interface TrafficCounts {
  entrances: number;
  departures: number;
  spotChanges: number;
  transactions: number;
  lateTransactions: number;
  errors: number;
}

export interface TrafficReport {
  style: DemoStyleName;
  startedAt: number;
  stoppedAt: number;
  counts: TrafficCounts;
  /** Entrances and departures committed per second, measured. */
  achievedRate: number;
  /** Committed events (empty when `record: false`). */
  entrances: TrafficEvent[];
  departures: TrafficEvent[];
  /** The first few errors (a transaction that failed is rolled back and not in the lists). */
  errors: string[];
}

export interface TrafficHandle {
  /** Stops (late transactions commit at once) and reports; safe to call more than once. */
  stop(): Promise<TrafficReport>;
  /** Resolves when the traffic stopped (duration reached, or stop()). */
  readonly done: Promise<TrafficReport>;
  counts(): TrafficCounts;
}

interface Planned {
  stream: 'entrances' | 'departures';
  visit: Visit;
}

const MAX_ERRORS_KEPT = 20;
const WORKERS = 2;

export async function startTraffic(
  url: string,
  style: DemoStyleName,
  options: TrafficOptions = {},
): Promise<TrafficHandle> {
  const rate = options.ratePerSecond ?? 10;
  if (!(rate > 0)) throw new Error('traffic: ratePerSecond must be positive');
  const zone = options.timeZone ?? 'Asia/Shanghai';
  const rnd = createRandom(options.seed ?? 1);
  const writer = demoStyle(style);
  const pool: PhotoPool | null = options.photos === false ? null : await photoPool();
  const sink: PhotoSink = { pool, dir: options.photoDir };
  const wall = wallClock(zone);

  const lateSlots = Math.max(1, Math.floor(options.lateConcurrency ?? 1));
  const backdateMs = Math.max(0, options.backdateMs ?? 0);
  const conns: mysql.Connection[] = [];
  try {
    for (let i = 0; i < WORKERS + lateSlots; i++) conns.push(await connectWriter(url));
    await demoStyleOf(conns[0]!, style);
  } catch (error) {
    await Promise.all(conns.map((c) => c.end().catch(() => undefined)));
    throw error;
  }
  const lots = await writer.loadLots(conns[0]!);
  if (!lots.length) {
    await Promise.all(conns.map((c) => c.end()));
    throw new Error('traffic: the demo database has no lots; run `vendor seed` first');
  }
  const inside = await writer.loadInside(conns[0]!, 5_000, zone, rnd);

  const counts: TrafficCounts = {
    entrances: 0,
    departures: 0,
    spotChanges: 0,
    transactions: 0,
    lateTransactions: 0,
    errors: 0,
  };
  const report: TrafficReport = {
    style,
    startedAt: Date.now(),
    stoppedAt: 0,
    counts,
    achievedRate: 0,
    entrances: [],
    departures: [],
    errors: [],
  };
  const record = options.record !== false;
  const maxPer = Math.max(1, options.maxPerTransaction ?? 5);
  const lateRatio = options.lateRatio ?? 0.05;
  const holdMs = options.holdMs ?? 3_000;
  const spotRatio = options.spotChangeRatio ?? 0.05;

  let stopping = false;
  /** Late transactions under way, by the slot (connection) each holds. */
  const lateRuns = new Map<number, Promise<void>>();
  const sleepers = new Set<() => void>();

  /** A sleep that stop() cuts short. */
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });
  const wakeAll = () => {
    for (const done of [...sleepers]) done();
  };

  function fail(error: unknown) {
    counts.errors++;
    if (report.errors.length < MAX_ERRORS_KEPT) report.errors.push((error as Error).message ?? String(error));
  }

  /** What the next event is: an entrance into a lot with room, or a departure of a car inside. */
  function plan(): Planned {
    const capacity = lots.reduce((n, l) => n + l.total, 0);
    const used = lots.reduce((n, l) => n + l.used, 0);
    // As many leave as enter once a few cars are inside (a steady day); full lots only let cars out.
    const pExit = Math.min(0.5, inside.length / 20);
    if (inside.length && (rnd.next() < pExit || used >= capacity)) {
      // A car leaves in a later second than it came in. One that entered this second would have its
      // departure stamped a second ahead of its write (out_time > in_time), a row from the future
      // no vendor writes, which any lag guard holds back for that second.
      const second = Math.floor(Date.now() / 1000);
      // (Every lot full and only cars of this second drawn: one of them leaves all the same.)
      for (let attempt = 0; attempt < 5; attempt++) {
        const i = Math.floor(rnd.next() * inside.length);
        const visit = inside[i]!;
        if (visit.inEpoch >= second && (attempt < 4 || used < capacity)) continue;
        inside[i] = inside[inside.length - 1]!;
        inside.pop();
        return { stream: 'departures', visit };
      }
    }
    const lot = pickLotWithRoom(lots, rnd);
    const visit = makeVisit(
      { id: 0, parkCode: lot.code, inEpoch: 0, outEpoch: null, photoPool: pool?.jpegs.length ?? 0 },
      rnd,
    );
    return { stream: 'entrances', visit };
  }

  /** Writes one event's row; the time is "now" on the vendor's wall clock, taken as it is written. */
  async function write(conn: mysql.Connection, event: Planned, backdate = 0): Promise<TrafficEvent> {
    const epoch = Math.floor((Date.now() - backdate) / 1000);
    const { visit } = event;
    let vendorKey: string;
    if (event.stream === 'entrances') {
      visit.inEpoch = epoch;
      vendorKey = await writer.insertEntrance(conn, visit, sink, zone);
    } else {
      leave(visit, Math.max(epoch, visit.inEpoch + 1), { photoPool: pool?.jpegs.length ?? 0 }, rnd);
      vendorKey = await writer.insertDeparture(conn, visit, sink, zone);
    }
    const plateNumber =
      event.stream === 'entrances' ? String(visit.plate) : String(visit.outPlate || visit.plate);
    return {
      stream: event.stream,
      vendorKey,
      parkCode: visit.parkCode,
      plateNumber,
      time: wall(event.stream === 'entrances' ? visit.inEpoch : visit.outEpoch!),
      epoch: event.stream === 'entrances' ? visit.inEpoch : visit.outEpoch!,
      committedAt: 0,
      late: false,
    };
  }

  /** Lot count changes, one statement per lot in code order (so transactions never deadlock). */
  async function applyCounts(conn: mysql.Connection, events: Planned[]): Promise<void> {
    const deltas = new Map<string, number>();
    for (const e of events) {
      deltas.set(e.visit.parkCode, (deltas.get(e.visit.parkCode) ?? 0) + (e.stream === 'entrances' ? 1 : -1));
    }
    for (const code of [...deltas.keys()].sort()) {
      const delta = deltas.get(code)!;
      if (delta !== 0) await writer.changeUsed(conn, code, { delta });
    }
  }

  function committed(events: Planned[], written: TrafficEvent[], late: boolean) {
    const at = Date.now();
    counts.transactions++;
    if (late) counts.lateTransactions++;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const row = written[i]!;
      const lot = lots.find((l) => l.code === event.visit.parkCode);
      if (event.stream === 'entrances') {
        counts.entrances++;
        inside.push(event.visit);
        if (lot) lot.used = Math.min(lot.total, lot.used + 1);
      } else {
        counts.departures++;
        if (lot) lot.used = Math.max(0, lot.used - 1);
      }
      if (record) {
        row.committedAt = at;
        row.late = late;
        (event.stream === 'entrances' ? report.entrances : report.departures).push(row);
      }
    }
  }

  function rolledBack(events: Planned[]) {
    for (const e of events) if (e.stream === 'departures') inside.push(e.visit);
  }

  /** One ordinary transaction: the events, then the lots' counts, commit. */
  async function runTransaction(conn: mysql.Connection, events: Planned[]): Promise<void> {
    try {
      await conn.beginTransaction();
      const written: TrafficEvent[] = [];
      for (const e of events) written.push(await write(conn, e));
      await applyCounts(conn, events);
      await conn.commit();
      committed(events, written, false);
    } catch (error) {
      await conn.rollback().catch(() => undefined);
      rolledBack(events);
      fail(error);
    }
    if (rnd.chance(spotRatio)) await correctCount(conn);
  }

  /**
   * A transaction held open: its rows are written now (timestamps now) and committed seconds
   * later, after other transactions committed newer rows. Counts follow in a short transaction
   * after the commit, so the held one locks no lot row.
   */
  async function runLate(conn: mysql.Connection, events: Planned[]): Promise<void> {
    try {
      await conn.beginTransaction();
      const written: TrafficEvent[] = [];
      for (const e of events) written.push(await write(conn, e, backdateMs));
      if (!stopping) await sleep(holdMs / 2 + rnd.next() * (holdMs / 2));
      await conn.commit();
      committed(events, written, true);
    } catch (error) {
      await conn.rollback().catch(() => undefined);
      rolledBack(events);
      fail(error);
      return;
    }
    try {
      await conn.beginTransaction();
      await applyCounts(conn, events);
      await conn.commit();
    } catch (error) {
      await conn.rollback().catch(() => undefined);
      fail(error);
    }
  }

  /** A hand correction of one lot's occupied count (the spot-count stream sees a change). */
  async function correctCount(conn: mysql.Connection): Promise<void> {
    const lot = lots[Math.floor(rnd.next() * lots.length)]!;
    const value = Math.max(0, Math.min(lot.total, lot.used + rnd.int(-3, 3)));
    try {
      await writer.changeUsed(conn, lot.code, { set: value });
      lot.used = value;
      counts.spotChanges++;
    } catch (error) {
      fail(error);
    }
  }

  function freeLateSlot(): number | undefined {
    for (let slot = 0; slot < lateSlots; slot++) if (!lateRuns.has(slot)) return slot;
    return undefined;
  }

  async function loop(): Promise<void> {
    const started = Date.now();
    let issued = 0;
    while (!stopping) {
      const elapsed = Date.now() - started;
      if (options.durationMs !== undefined && elapsed >= options.durationMs) break;
      const due = Math.floor((rate * elapsed) / 1000) - issued;
      if (due <= 0) {
        await sleep(Math.max(5, Math.min(50, 1000 / rate)));
        continue;
      }
      // This round's events, cut into transactions of 1..maxPer, spread over the workers.
      const round = Math.min(due, maxPer * WORKERS * 8);
      const queues: Planned[][][] = Array.from({ length: WORKERS }, () => []);
      let planned = 0;
      let worker = 0;
      while (planned < round) {
        const size = Math.min(round - planned, 1 + Math.floor(rnd.next() * maxPer));
        const events = Array.from({ length: size }, plan);
        planned += size;
        const slot = freeLateSlot();
        if (slot !== undefined && rnd.chance(lateRatio)) {
          lateRuns.set(
            slot,
            runLate(conns[WORKERS + slot]!, events).finally(() => {
              lateRuns.delete(slot);
            }),
          );
        } else {
          queues[worker]!.push(events);
          worker = (worker + 1) % WORKERS;
        }
      }
      issued += planned;
      await Promise.all(
        queues.map(async (txs, i) => {
          for (const events of txs) await runTransaction(conns[i]!, events);
        }),
      );
    }
  }

  let finished: TrafficReport | undefined;
  const done = (async () => {
    try {
      await loop();
    } finally {
      stopping = true;
      wakeAll(); // a held transaction commits now
      await Promise.all(lateRuns.values());
      await Promise.all(conns.map((c) => c.end().catch(() => undefined)));
    }
    report.stoppedAt = Date.now();
    const seconds = Math.max(0.001, (report.stoppedAt - report.startedAt) / 1000);
    report.achievedRate = Math.round(((counts.entrances + counts.departures) / seconds) * 10) / 10;
    finished = report;
    return report;
  })();

  return {
    async stop() {
      if (finished) return finished;
      stopping = true;
      wakeAll();
      return done;
    },
    done,
    counts: () => ({ ...counts }),
  };
}

function pickLotWithRoom(lots: LotState[], rnd: Random): LotState {
  let free = 0;
  for (const lot of lots) free += Math.max(0, lot.total - lot.used);
  if (free <= 0) return lots[Math.floor(rnd.next() * lots.length)]!;
  let r = rnd.next() * free;
  for (const lot of lots) {
    r -= Math.max(0, lot.total - lot.used);
    if (r < 0) return lot;
  }
  return lots[lots.length - 1]!;
}
