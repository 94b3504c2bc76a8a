/**
 * BullMQ processor of the poll queues: one job = one poll of one stream. The queue's global
 * concurrency of 1 makes it a singleton across all processes and machines.
 */
import type { Job } from 'bullmq';
import type { StreamName } from '../src/config/index.js';
import { streamLag } from '../src/metrics.js';
import { pollEvents } from '../src/pipeline/events/poll.js';
import { pollState } from '../src/pipeline/lots/lot-streams.js';
import type { Runtime } from '../src/pipeline/runtime.js';
import { eventPollDeps, statePollDeps } from '../src/pipeline/wiring.js';

/** `direct`: this process also pushes, so a poll may deliver its pages itself (direct-delivery.ts). */
export function pollProcessor(rt: Runtime, options: { direct?: boolean } = {}) {
  return async (job: Job<{ stream: StreamName }>) => {
    const { stream } = job.data;
    try {
      const result =
        stream === 'entrances' || stream === 'departures'
          ? await pollEvents(eventPollDeps(rt, stream, { direct: options.direct ?? false }))
          : await pollState(statePollDeps(rt, stream));
      if (stream === 'parks' || stream === 'spotNums')
        await rt.progress.setCaughtUp(stream, Math.floor(Date.now() / 1000));
      const readUpTo = await rt.progress.caughtUp(stream);
      if (readUpTo !== undefined) streamLag.set({ stream }, Math.max(0, Date.now() / 1000 - readUpTo));
      return result;
    } catch (error) {
      await rt.activity.recordError(stream, `poll: ${(error as Error).message}`);
      throw error;
    }
  };
}
