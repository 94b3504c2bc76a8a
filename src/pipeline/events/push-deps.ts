/**
 * A push of event records wired to a Runtime: the stream's ledger, photos fetched from the vendor
 * and fitted under the limit a few at a time, the ISP endpoint, the quarantine for photos the
 * policy refuses, isolated jobs for records ISP refuses, and the departure gate moved per batch.
 */
import type { Job } from 'bullmq';
import { utf8Bound } from '../../isp/batches.js';
import type { RecordText } from '../../isp/index.js';
import { eventsHeld } from '../../metrics.js';
import { countPhoto, loadPhoto, wireOf } from '../../transform/photo/index.js';
import { fetchPhotos } from '../../vendor-db/index.js';
import { countDelivered, DeliveryTally, untilWritten } from '../bookkeeping.js';
import { PhotoUnavailableError } from '../errors.js';
import { blockedReason, holdEvents, holdReason, lotStanding } from '../lots/registration.js';
import { enqueuePush, isReplayRun, type PushJobData, pushJobIds } from '../push-queue.js';
import type { Runtime } from '../runtime.js';
import { sendOutcome } from '../send-outcome.js';
import { EVENT_STREAMS, type EventStreamName } from '../streams.js';
import { acceptedKeysOf, followedByLowLatency } from './departure-gate.js';
import type { PreparedRecord, PushEventsDeps } from './push.js';
import { type EventRecord, naturalKeyOf, withPhoto, withPhotoBytes } from './records.js';

/** Job attempts that wait for a photo that may come back before sending the event without it. */
const PHOTO_RETRIES = 3;

/** The push at hand, as the event push steps see it. */
export interface PushContext {
  /** The BullMQ job id (or the id the job would have: direct delivery). */
  id: string;
  /** Attempts made so far (photos that may come back are waited for a few attempts). */
  attemptsMade: number;
  /** The job has an entry in the pending set, moved on batch by batch (the departure gate). */
  pending: boolean;
  /** The job came back from the failed set or is resent: what it delivers counts as replayed. */
  replay?: boolean;
}

export function pushContext(job: Job, data: PushJobData): PushContext {
  return {
    id: String(job.id),
    attemptsMade: job.attemptsMade,
    pending: data.kind === 'events' && !data.isolated,
    replay: data.kind === 'events' && isReplayRun(data),
  };
}

export function eventPushDeps(rt: Runtime, stream: EventStreamName, job: PushContext): PushEventsDeps {
  const cfg = rt.config.streams[stream];
  const photo = cfg.photo;
  const { photoField, follows } = EVENT_STREAMS[stream];
  // Low-latency followers go as soon as their own precedent is accepted: note what ISP accepted.
  const accepted = followedByLowLatency(rt, stream) ? rt.acceptedKeys[stream] : undefined;
  return {
    ledger: {
      delivered: (entries) => rt.ledgers[stream].delivered(entries),
      markDelivered: async (entries) => {
        await untilWritten(() => rt.ledgers[stream].markDelivered(entries), rt);
        if (accepted)
          await untilWritten(
            () =>
              accepted.add(
                entries.flatMap((e) =>
                  acceptedKeysOf({
                    key: naturalKeyOf(e.key, e.vendorKey),
                    time: e.time,
                    vendorKey: e.vendorKey,
                  }),
                ),
              ),
            rt,
          );
      },
    },
    maxItems: rt.config.isp.batch.maxItems,
    maxBytes: rt.config.isp.batch.maxBytes,
    prepareWindow: photo ? Math.max(2, rt.config.photo.concurrency * 2) : rt.config.isp.batch.maxItems,
    prepare: async (records) => {
      // Registered before data: a record of a lot ISP does not know is held, not sent. A departure
      // of a lot whose entrances are in trouble (being split, or failed) is held from their time on.
      const lots = records.map((r) => r.lot);
      const [standing, blocks] = await Promise.all([
        lotStanding(rt, lots),
        follows ? rt.entranceBlocks.blocks([...new Set(lots)]) : undefined,
      ]);
      const held = (record: EventRecord): PreparedRecord | undefined => {
        const lot = standing.get(record.lot) ?? 'unknown';
        if (lot !== 'registered')
          return { ok: false, record, hold: { lot: record.lot, reason: holdReason(record.lot, lot) } };
        const block = blocks?.get(record.lot);
        if (block && record.time >= block.mark)
          return { ok: false, record, hold: { lot: record.lot, reason: blockedReason(record.lot, block) } };
        return undefined;
      };
      const sendable = (record: EventRecord, text: RecordText, photoMissing = false): PreparedRecord =>
        photoMissing
          ? { ok: true, record, text, bytes: utf8Bound(text), photoMissing }
          : { ok: true, record, text, bytes: utf8Bound(text) };
      // Without photos nothing waits: one plain pass instead of a promise per record.
      if (!photo)
        return records.map(
          (record) => held(record) ?? sendable(record, withPhoto(record.payload, photoField, '')),
        );
      const raws = await fetchPhotos(
        rt.vendor,
        cfg,
        records.filter((r) => !held(r)).map((r) => r.vendorKey),
      );
      return Promise.all(
        records.map(async (record): Promise<PreparedRecord> => {
          const hold = held(record);
          if (hold) return hold;
          const raw = raws.get(record.vendorKey) ?? null;
          // Read under photo.fetchConcurrency (a slow share or camera server holds a slot, not a
          // core), fitted under photo.concurrency; the read slot is held until the photo is
          // fitted, so at most fetchConcurrency inputs are in memory.
          const { wire, text } = await rt.photoLoads(async () => {
            const input = await loadPhoto(raw, photo.source, rt.config.photo, {
              dispatcher: rt.photoDispatcher,
              buffers: rt.photoBuffers,
            });
            const fitted = await rt.photoLimiter(() => wireOf(input, rt.config.photo));
            countPhoto(rt.config.source.name, fitted, rt.config.photo);
            // The record's bytes go on with it (given back once its batch is done: release); the
            // bytes read are not needed past this point.
            const bytes =
              fitted.ok && fitted.jpeg
                ? withPhotoBytes(record.payload, photoField, rt.config.photo.prefix, fitted.jpeg, (n) =>
                    rt.photoBuffers.take(n),
                  )
                : withPhoto(record.payload, photoField, '');
            if (input.ok) rt.photoBuffers.give(input.bytes);
            return { wire: fitted, text: bytes };
          });
          // A photo that may come back (URL timeout, 5xx) is worth a few retries of the job
          // before the event goes without it.
          if (wire.retryable && job.attemptsMade < PHOTO_RETRIES) {
            throw new PhotoUnavailableError(
              record.vendorKey,
              wire.ok ? (wire.message ?? wire.outcome) : wire.reason.message,
            );
          }
          if (!wire.ok) return { ok: false, record, reason: wire.reason };
          // Sent without the photo its row referenced (a row without any is not a missing photo).
          return sendable(record, text, !wire.jpeg && referencesPhoto(raw));
        }),
      );
    },
    hold: async (held) => {
      eventsHeld.inc({ source: rt.config.source.name, stream }, held.length);
      await holdEvents(rt, stream, held);
    },
    send: async (texts, bytes) => sendOutcome(await rt.isp.pushSerialized(stream, texts, bytes)),
    release: (texts) => {
      for (const text of texts) if (typeof text !== 'string') rt.photoBuffers.give(text.framed);
    },
    quarantine: async (record, reason) => {
      // Held back at push time: the payload without its photo is what is kept (the vendor row
      // is re-read by a backfill of its time once the photo is fixed).
      await rt.quarantine.add({
        stream,
        vendorKey: record.vendorKey,
        reasons: [reason],
        row: { pushDraft: JSON.parse(record.payload) },
      });
      await rt.health.countOutcome(record.lot, 'quarantined');
    },
    isolate: (rejected) =>
      enqueuePush(
        rt.queues.push,
        stream,
        'rejected',
        rejected.map(({ record, message }) => ({
          id: pushJobIds.isolated(job.id, record.vendorKey),
          data: { kind: 'events', stream, records: [record], isolated: { message } },
        })),
      ),
    ...(job.pending ? { advance: (earliest: number) => rt.progress.advance(stream, job.id, earliest) } : {}),
    onDelivered: (records, withoutPhoto) =>
      countDelivered(
        rt,
        stream,
        new DeliveryTally(rt).add(records, { withoutPhoto, replayed: job.replay === true }),
        { live: pushJobIds.isLivePage(stream, job.id) },
      ),
  };
}

/** The row names a photo (a BLOB, a path, a URL, Base64): NULL or empty is a row without one. */
function referencesPhoto(raw: Buffer | string | null): boolean {
  if (raw === null) return false;
  return typeof raw === 'string' ? raw.trim() !== '' : raw.length > 0;
}
