/**
 * A poll of a lot stream wired to a Runtime: the whole vendor table through the stream table's
 * transform, changes into the lot-change store, one deduplicated flush job to send them.
 */
import { enqueuePush, pushJobIds } from '../push-queue.js';
import type { Runtime } from '../runtime.js';
import { LOT_STREAMS, type LotStreamName } from '../streams.js';
import type { LotPollDeps } from './poll.js';

export function lotPollDeps(rt: Runtime, stream: LotStreamName): LotPollDeps {
  const def = LOT_STREAMS[stream];
  return {
    stream,
    deletesVanished: def.deletesVanished,
    readAll: () => def.read(rt.vendor, rt.config),
    transform: (row) => def.toItem(row, rt.transform),
    store: rt.lotChanges,
    quarantine: async (o) => {
      await rt.quarantine.add({ stream, vendorKey: o.row.vendorKey, reasons: o.reasons ?? [], row: o.row });
    },
    requestFlush: () =>
      enqueuePush(rt.queues.push, stream, 'flush', [
        { id: pushJobIds.flush(stream), data: { kind: 'lots', stream } },
      ]),
  };
}
