/**
 * Registered before data: no count, entrance or departure of a lot goes to ISP before the lot's
 * POST /park/spot has been delivered. Events of a lot ISP does not know are held (not retried) in
 * Redis, and the lot is asked for at once: a parks poll now, not at the next scheduled one. When
 * ISP accepts the lot, its held events are released, entrances before departures. Counts simply
 * stay pending until then (lots/flush-deps.ts).
 */
import type { LotStanding } from '../../state/lot-changes.js';
import type { EventRecord } from '../events/records.js';
import { enqueueReleased, pushJobIds } from '../push-queue.js';
import type { Runtime } from '../runtime.js';
import { EVENT_STREAMS, type EventStreamName, isEventStream } from '../streams.js';

const follows = (stream: string) => isEventStream(stream) && EVENT_STREAMS[stream].follows !== undefined;

/** How long a lot found registered is believed so without asking Redis again. */
const REGISTERED_TTL_MS = 1_000;

const registeredCache = new WeakMap<Runtime, { at: number; codes: Set<string> }>();

/**
 * Where each lot stands at ISP. A lot found registered is remembered for a second: the question is
 * asked for every batch, and a lot is only deleted after every event read before it vanished was
 * delivered (lots/flush-deps.ts), so a stale "registered" cannot send an event past its DELETE.
 */
export async function lotStanding(rt: Runtime, codes: readonly string[]): Promise<Map<string, LotStanding>> {
  const now = Date.now();
  let cache = registeredCache.get(rt);
  if (!cache || now - cache.at > REGISTERED_TTL_MS) {
    cache = { at: now, codes: new Set() };
    registeredCache.set(rt, cache);
  }
  const out = new Map<string, LotStanding>();
  const ask = [...new Set(codes)].filter((code) => {
    if (!cache.codes.has(code)) return true;
    out.set(code, 'registered');
    return false;
  });
  const standings = await rt.lotChanges.standing(ask);
  ask.forEach((code, i) => {
    const standing = standings[i] ?? 'unknown';
    out.set(code, standing);
    if (standing === 'registered') cache.codes.add(code);
  });
  return out;
}

/** Forgets what this process believed registered (a DELETE was just delivered). */
export function forgetRegistered(rt: Runtime): void {
  registeredCache.delete(rt);
}

export function holdReason(code: string, standing: LotStanding): string {
  return standing === 'deleted'
    ? `lot ${code} was deleted at ISP: held until the lot is back in the vendor's lot table`
    : `lot ${code} is not registered at ISP yet: held until its POST /park/spot is delivered`;
}

export const NOT_IN_VENDOR_TABLE = (code: string) =>
  `lot ${code} is not in the vendor's lot table: held until it appears there (then it is registered and these events follow)`;

/** Asks for the lots now: a parks poll is queued at once (one at a time, deduplicated). */
export async function requestRegistration(rt: Runtime): Promise<void> {
  await rt.queues.poll.parks.add(
    'parks-now',
    { stream: 'parks' },
    { deduplication: { id: 'parks-now' }, removeOnComplete: true },
  );
}

/** Holds events of lots ISP does not know; a lot never seen at ISP is asked for at once. */
export async function holdEvents(
  rt: Runtime,
  stream: EventStreamName,
  held: ReadonlyArray<{ record: EventRecord; lot: string; reason: string }>,
): Promise<void> {
  const byLot = new Map<string, { reason: string; records: EventRecord[] }>();
  for (const h of held) {
    const entry = byLot.get(h.lot) ?? { reason: h.reason, records: [] };
    entry.records.push(h.record);
    byLot.set(h.lot, entry);
  }
  for (const [lot, { reason, records }] of byLot) {
    await rt.holds.hold(
      lot,
      records.map((record) => ({ stream, record })),
      reason,
    );
  }
  rt.logger.info(
    { stream, lots: [...byLot.keys()].slice(0, 20), events: held.length },
    'events held for their lot',
  );
  // What held them may have cleared while they were being held: its release ran before they were there.
  const lots = [...byLot.keys()];
  await releaseWhereClear(rt, lots);
  if ((await rt.lotChanges.standing(lots)).includes('unknown')) await requestRegistration(rt);
}

/**
 * Releases the held events of the lots that nothing holds any more: registered at ISP, and no
 * entrance job in trouble holding their departures (the entrance blocks of jobs/push.ts).
 */
export async function releaseWhereClear(rt: Runtime, lots: readonly string[]): Promise<number> {
  if (lots.length === 0) return 0;
  const [standing, blocks] = await Promise.all([
    rt.lotChanges.standing(lots),
    rt.entranceBlocks.blocks(lots),
  ]);
  const clear = lots.filter((lot, i) => standing[i] === 'registered' && !blocks.has(lot));
  return clear.length ? releaseHeld(rt, clear) : 0;
}

/** Why a departure of a lot whose entrances are in trouble waits. */
export function blockedReason(lot: string, block: { mark: number; jobs: string[] }): string {
  return `entrances of lot ${lot} from ${new Date(block.mark * 1000).toISOString()} wait in job ${block.jobs.slice(0, 3).join(', ')} (retrying, or in the failed set): its departures from then on are held until they are delivered`;
}

/** Says which held lots are not in the vendor's lot table at all (after a parks poll read it). */
export async function markUnknownLots(rt: Runtime, inTable: ReadonlySet<string>): Promise<void> {
  for (const code of await rt.holds.heldCodes()) {
    if (!inTable.has(code)) await rt.holds.setReason(code, NOT_IN_VENDOR_TABLE(code));
  }
}

/** ISP registered these lots: their held events go now, entrances before departures. */
export async function releaseHeld(rt: Runtime, codes: readonly string[]): Promise<number> {
  const holding = new Set(await rt.holds.heldCodes());
  let released = 0;
  for (const code of codes) {
    if (!holding.has(code)) continue;
    const events = await rt.holds.take<EventRecord>(code);
    const split = { entrances: [] as EventRecord[], departures: [] as EventRecord[] };
    // Events of a stream that follows another (departures) go behind the ones they follow.
    for (const e of events) (follows(e.stream) ? split.departures : split.entrances).push(e.record);
    const at = Date.now();
    // The released entrances hold their lot's later departures until they are delivered, as a
    // pending live job would: they are not in the watermark.
    if (split.entrances.length) {
      const first = Math.min(...split.entrances.map((r) => r.time));
      await rt.entranceBlocks.block(pushJobIds.released('entrances', code, at), new Map([[code, first]]));
    }
    try {
      await enqueueReleased(rt.queues, code, split, at);
    } catch (error) {
      await rt.holds.putBack(
        code,
        events,
        `release failed (${(error as Error).message}); retried when the lot is sent again`,
      );
      throw error;
    }
    released += events.length;
    rt.logger.info({ lot: code, events: events.length }, 'held events released: ISP registered their lot');
  }
  return released;
}
