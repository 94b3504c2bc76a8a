/**
 * A poll of a lot stream wired to a Runtime: the whole vendor table through the stream table's
 * transform, changes into the lot-change store, one deduplicated flush job to send them, and the
 * mass-deletion guard told to the log, the metrics and the status page.
 */
import { lotDeleteGuard, lotStatesSuperseded } from '../../metrics.js';
import { enqueuePush, pushJobIds } from '../push-queue.js';
import type { Runtime } from '../runtime.js';
import { LOT_STREAMS, type LotStreamName } from '../streams.js';
import type { LotPollDeps } from './poll.js';
import { markUnknownLots } from './registration.js';

export function lotPollDeps(rt: Runtime, stream: LotStreamName): LotPollDeps {
  const def = LOT_STREAMS[stream];
  const store = rt.lotChanges;
  return {
    stream,
    deletesVanished: def.deletesVanished,
    maxDeleteShare: rt.config.streams.parks.maxDeleteShare,
    readAll: () => def.read(rt.vendor, rt.config),
    transform: (row) => def.toItem(row, rt.transform),
    ...(rt.claims ? { claim: (codes: string[]) => rt.claims!.claim(rt.config.source.name, codes) } : {}),
    store: {
      delivered: (s) => store.delivered(s),
      refused: (s) => store.refused(s),
      vanished: (s) => store.vanished(s),
      setVanished: (s, codes, at) => store.setVanished(s, codes, at),
      setGuard: (s, guard) => store.setGuard(s, guard),
      takeConfirmation: (s) => store.takeConfirmation(s),
      setPending: async (s, items, force) => {
        const superseded = await store.setPending(s, items, force);
        if (superseded) lotStatesSuperseded.inc({ source: rt.config.source.name, stream }, superseded);
        return superseded;
      },
    },
    quarantine: async (o) => {
      await rt.quarantine.add({ stream, vendorKey: o.row.vendorKey, reasons: o.reasons ?? [], row: o.row });
    },
    requestFlush: () =>
      enqueuePush(rt.queues.push, stream, 'flush', [
        { id: pushJobIds.flush(stream), data: { kind: 'lots', stream } },
      ]),
    ...(def.deletesVanished
      ? {
          onRead: (codes) => markUnknownLots(rt, codes),
          onGuard: (guard) => {
            lotDeleteGuard.set({ source: rt.config.source.name, stream }, guard ? 1 : 0);
            if (guard)
              rt.logger.warn(
                { stream, wouldDelete: guard.wouldDelete, registered: guard.registered, codes: guard.codes },
                `mass-deletion guard: nothing deleted: ${guard.reason}. If the lots really are gone, run ` +
                  '`isp-park-sync full-sync --confirm-deletes`; if not, fix the vendor database or its mapping',
              );
          },
        }
      : {}),
  };
}
