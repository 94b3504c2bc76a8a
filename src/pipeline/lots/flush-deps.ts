/**
 * A flush of a lot stream wired to a Runtime: pending lots sent as stored, a count only once ISP
 * knows its lot, a vanished lot's DELETE only once its data is all delivered, held events released
 * once their lot is registered, isolated jobs for what ISP refuses, and the status page's counts.
 */
import type { Job } from 'bullmq';
import { utf8Bound } from '../../isp/batches.js';
import { eventsDelivered } from '../../metrics.js';
import type { PendingLot } from '../../state/lot-changes.js';
import { watermarkOf } from '../events/departure-gate.js';
import { enqueuePush, jobLots, pushJobIds, readPushJob } from '../push-queue.js';
import type { Runtime } from '../runtime.js';
import { sendOutcome } from '../send-outcome.js';
import { EVENT_STREAM_NAMES, LOT_STREAMS, type LotStreamName } from '../streams.js';
import type { LotFlushDeps } from './flush.js';
import { forgetRegistered, lotStanding, releaseWhereClear, requestRegistration } from './registration.js';

/** Failed jobs looked at per event queue when a DELETE checks that none of them holds its lot. */
const FAILED_SCAN = 5_000;

export function lotFlushDeps(
  rt: Runtime,
  stream: LotStreamName,
  job: Pick<Job, 'id'>,
  bisect: boolean,
): LotFlushDeps {
  const def = LOT_STREAMS[stream];
  const store = rt.lotChanges;
  return {
    stream,
    store: {
      pending: (s) => store.pending(s),
      markSent: (s, items) => store.markSent(s, items),
      markRefused: (s, items) => store.markRefused(s, items),
      vanished: (s) => store.vanished(s),
      markDeleted: async (s, codes, at) => {
        await store.markDeleted(s, codes, at);
        forgetRegistered(rt);
      },
      setDeleteWaits: (s, waits) => store.setDeleteWaits(s, waits),
    },
    maxItems: rt.config.isp.batch.maxItems,
    maxBytes: rt.config.isp.batch.maxBytes,
    splitRejected: bisect,
    send: async (items) => {
      const texts = items.map((i) => i.json);
      const outcome = sendOutcome(await rt.isp.pushSerialized(stream, texts, texts.map(utf8Bound)));
      if (outcome.kind === 'delivered') {
        eventsDelivered.inc({ source: rt.config.source.name, stream }, items.length);
        await rt.activity.recordDelivered(stream, items.length, {
          ...(def.lotActivity === 'lastSpotNum' ? { spotNums: items.map(spotNumOf) } : {}),
        });
      }
      return outcome;
    },
    sendDeletes: async (codes) => sendOutcome(await rt.isp.deleteParks(codes)),
    isolate: (item, message, action) =>
      enqueuePush(rt.queues.push, stream, 'rejected', [
        {
          id: pushJobIds.isolated(String(job.id), action === 'delete' ? `delete-${item.code}` : item.code),
          data: { kind: 'lots', stream, isolated: { message, item, action } },
        },
      ]),
    ...(def.deletesVanished
      ? {
          // Registered: the counts and events held for these lots may follow now.
          onSent: async (items: PendingLot[]) => {
            const codes = items.map((i) => i.code);
            await releaseWhereClear(rt, codes);
            await requestFlush(rt, 'spotNums');
          },
          deletable: (vanished: Map<string, number>) => deletable(rt, vanished),
        }
      : {
          // A count waits, pending, until ISP knows its lot.
          admit: async (items: PendingLot[]) => {
            const standing = await lotStanding(
              rt,
              items.map((i) => i.code),
            );
            const go = items.filter((i) => standing.get(i.code) === 'registered');
            if ([...standing.values()].includes('unknown')) await requestRegistration(rt);
            return { go, waiting: items.length - go.length };
          },
        }),
  };
}

function requestFlush(rt: Runtime, stream: LotStreamName): Promise<void> {
  return enqueuePush(rt.queues.push, stream, 'flush', [
    { id: pushJobIds.flush(stream), data: { kind: 'lots', stream } },
  ]);
}

/**
 * Deleted after its data: a vanished lot's DELETE goes only after the grace period (cars still
 * leaving are delivered meanwhile), once every event stream has read and delivered everything up to
 * its end, with no failed job of the lot in the way and its last count delivered. The others wait,
 * each with the reason the status page shows.
 */
async function deletable(
  rt: Runtime,
  vanished: Map<string, number>,
): Promise<{ ready: string[]; waits: Map<string, string> }> {
  const now = Date.now();
  const graceMs = rt.config.streams.parks.deleteGraceSeconds * 1000;
  const waits = new Map<string, string>();
  const candidates: Array<[string, number]> = [];
  for (const [code, at] of vanished) {
    const graceEnd = at + graceMs;
    if (now < graceEnd)
      waits.set(code, `grace period: events of cars still leaving are delivered until ${iso(graceEnd)}`);
    else candidates.push([code, graceEnd]);
  }
  if (candidates.length === 0) return { ready: [], waits };

  const marks = new Map<string, number | undefined>();
  for (const s of EVENT_STREAM_NAMES) marks.set(s, await watermarkOf(rt, s));
  const failedBy = await failedJobsByLot(rt, new Set(candidates.map(([code]) => code)));
  const pendingCounts = new Set((await rt.lotChanges.pending('spotNums')).map((p) => p.code));
  const held = new Set(await rt.holds.heldCodes());
  const ready: string[] = [];
  for (const [code, graceEnd] of candidates) {
    const behind = [...marks].find(([, mark]) => mark === undefined || mark * 1000 <= graceEnd);
    const failed = failedBy.get(code);
    if (behind) waits.set(code, `${behind[0]} up to ${iso(graceEnd)} are not all read and delivered yet`);
    else if (failed)
      waits.set(
        code,
        `failed jobs hold events of this lot: ${failed.slice(0, 5).join(', ')}${failed.length > 5 ? ', ...' : ''}; replay them (or discard them) and the DELETE follows`,
      );
    else if (pendingCounts.has(code)) waits.set(code, 'its last count is not delivered yet');
    else if (held.has(code)) waits.set(code, 'events of this lot are held');
    else ready.push(code);
  }
  return { ready, waits };
}

/** Ids of the failed event jobs that carry records of each of `codes`. */
async function failedJobsByLot(rt: Runtime, codes: ReadonlySet<string>): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const s of EVENT_STREAM_NAMES) {
    for (const failed of await rt.queues.push[s].getFailed(0, FAILED_SCAN - 1)) {
      const data = readPushJob(failed.data);
      if (!data) continue;
      for (const lot of jobLots(data)) {
        if (!codes.has(lot)) continue;
        out.set(lot, [...(out.get(lot) ?? []), `push-${s}/${failed.id}`]);
      }
    }
  }
  return out;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The status page's count of a lot, from the spot-count payload ISP accepted. */
function spotNumOf(item: PendingLot) {
  const p = item.payload;
  return {
    park_code: item.code,
    total_spots_num: Number(p.total_spots_num),
    remain_spots_num: Number(p.remain_spots_num),
    used_spots_num: Number(p.used_spots_num),
  };
}
