/**
 * A flush of a lot stream wired to a Runtime: pending lots sent as stored, deletions through
 * DELETE /park/spot, isolated jobs for lots ISP refuses, and the status page's per-lot counts.
 */
import type { Job } from 'bullmq';
import { utf8Bound } from '../../isp/batches.js';
import { eventsDelivered } from '../../metrics.js';
import type { PendingLot } from '../../state/lot-changes.js';
import { enqueuePush, pushJobIds } from '../push-queue.js';
import type { Runtime } from '../runtime.js';
import { sendOutcome } from '../send-outcome.js';
import { LOT_STREAMS, type LotStreamName } from '../streams.js';
import type { LotFlushDeps } from './flush.js';

export function lotFlushDeps(rt: Runtime, stream: LotStreamName, job: Job, bisect: boolean): LotFlushDeps {
  const def = LOT_STREAMS[stream];
  return {
    stream,
    store: rt.lotChanges,
    maxItems: rt.config.isp.batch.maxItems,
    maxBytes: rt.config.isp.batch.maxBytes,
    bisectRejected: bisect,
    send: async (items) => {
      const texts = items.map((i) => i.json);
      const outcome = sendOutcome(await rt.isp.pushSerialized(stream, texts, texts.map(utf8Bound)));
      if (outcome.kind === 'delivered') {
        eventsDelivered.inc({ stream }, items.length);
        await rt.activity.recordDelivered(stream, items.length, {
          ...(def.lotActivity === 'lastSpotNum' ? { spotNums: items.map(spotNumOf) } : {}),
        });
      }
      return outcome;
    },
    sendDeletes: async (codes) => sendOutcome(await rt.isp.deleteParks(codes)),
    isolate: (item, message) =>
      enqueuePush(rt.queues.push, stream, 'rejected', [
        {
          id: pushJobIds.isolated(String(job.id), item.code),
          data: { kind: 'lots', stream, isolated: { message, item } },
        },
      ]),
  };
}

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
