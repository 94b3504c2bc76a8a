/**
 * What `/readyz` checks, each with its reason when it fails: Redis and the vendor database answer;
 * the state in Redis is not lost; the job schedulers (and the poll queues' global concurrency) are
 * there; every stream has polled successfully within several of its intervals; this process's
 * workers are consuming jobs. ISP's reachability, a growing failed set and a photo share with file
 * reads stuck are reported but do not fail readiness: an ISP outage needs no action (pushes back off
 * and resume), failed jobs wait for an operator whatever this process does, and photos of a hung
 * share go without (retried) while events go on.
 *
 * `/healthz` (liveness) answers "alive" without any of this: a check that fails while Redis or the
 * database is down would make an orchestrator restart a worker that is waiting correctly.
 */
import { STREAM_NAMES } from '../src/config/index.js';
import { slowestPollEveryMs } from '../src/pipeline/poll-interval.js';
import { clusterStateProblem } from '../src/pipeline/redis-options.js';
import type { Runtime } from '../src/pipeline/runtime.js';
import { missingGlobalConcurrency, missingSchedules } from '../src/pipeline/schedules.js';
import { lossAdvice, recordedLoss } from '../src/pipeline/state-guard.js';
import { photoShareProblem } from '../src/transform/photo/index.js';
import type { RunningWorkers } from './workers.js';

export interface ReadinessCheck {
  ok: boolean;
  message?: string;
  /** Reported, but does not decide readiness. */
  informational?: boolean;
  /** Facts behind the verdict (the workers check: each worker's queue, running, last finished). */
  details?: Record<string, unknown>;
}

export interface Readiness {
  ok: boolean;
  checks: Record<string, ReadinessCheck>;
}

/** How long a stream may go without a successful poll, ms (counted in idle intervals: an idle stream polls less often). */
export function pollStaleAfterMs(rt: Pick<Runtime, 'config'>, stream: (typeof STREAM_NAMES)[number]): number {
  const { pollStaleIntervals, pollStaleMinMs } = rt.config.pipeline;
  return Math.max(pollStaleMinMs, pollStaleIntervals * slowestPollEveryMs(rt.config.streams[stream]));
}

export async function readiness(
  rt: Runtime,
  running?: Pick<RunningWorkers, 'monitor' | 'guard'> & { startedAt: number },
  now = Date.now(),
): Promise<Readiness> {
  const checks: Record<string, ReadinessCheck> = {};
  const probe = async (name: string, fn: () => Promise<string | undefined>, informational = false) => {
    try {
      const problem = await fn();
      checks[name] = problem ? { ok: false, message: problem } : { ok: true };
    } catch (error) {
      checks[name] = { ok: false, message: (error as Error).message };
    }
    if (informational) checks[name]!.informational = true;
  };
  await probe('redis', async () => {
    await rt.redis.ping();
    // A cluster node answers PING while slots have no master; their keys' commands would fail.
    return clusterStateProblem(rt.redis);
  });
  await probe('mysql', async () => {
    await rt.vendor.query('SELECT 1', [], 'readiness probe');
    return undefined;
  });
  if (checks.redis?.ok) {
    await probe('state', async () => {
      const loss = await recordedLoss(rt);
      if (loss) return `state lost: ${loss.reason}. ${lossAdvice(loss, rt.config.vendor.timeZone)}`;
      const verdict = running?.guard.last;
      if (verdict && !verdict.ok) return verdict.message;
      return undefined;
    });
    await probe('schedulers', async () => {
      const missing = [
        ...(await missingSchedules(rt.queues)),
        ...(await missingGlobalConcurrency(rt.queues)).map((q) => `${q} global concurrency`),
      ];
      return missing.length
        ? `missing from Redis: ${missing.join(', ')}; a worker with the scheduler role re-creates them within ` +
            `${Math.round(rt.config.pipeline.stateCheckEveryMs / 1000)} s (none running? start one)`
        : undefined;
    });
    await probe('polls', async () => {
      const stale: string[] = [];
      for (const stream of STREAM_NAMES) {
        const limit = pollStaleAfterMs(rt, stream);
        const at = await rt.progress.polledAt(stream);
        const since = at ?? running?.startedAt;
        if (since === undefined || now - since > limit)
          stale.push(
            `${stream} ${at === undefined ? 'has never polled successfully' : `last polled successfully ${Math.round((now - at) / 1000)} s ago`} (limit ${Math.round(limit / 1000)} s)`,
          );
      }
      return stale.length
        ? `${stale.join('; ')}: see the stream's last error (status) and the other checks`
        : undefined;
    });
    await probe(
      'failed',
      async () => {
        const over: string[] = [];
        for (const stream of STREAM_NAMES) {
          const failed = await rt.queues.push[stream].getFailedCount();
          if (failed > rt.config.pipeline.failedWarnAt) over.push(`${stream} ${failed}`);
        }
        return over.length
          ? `failed push jobs above ${rt.config.pipeline.failedWarnAt}: ${over.join(', ')}; ` +
              'read why with `replay --list`, then replay or discard them'
          : undefined;
      },
      true,
    );
  }
  if (running) {
    let details: Record<string, unknown> | undefined;
    await probe('workers', async () => {
      const health = await running.monitor.check(now);
      details = health.details;
      if (health.ok) return undefined;
      const workers = (health.details.workers ?? []) as Array<{
        queue: string;
        running: boolean;
        oldestWaitingAgeSeconds: number | null;
      }>;
      const bad = workers
        .filter((w) => !w.running || (w.oldestWaitingAgeSeconds ?? 0) > 0)
        .map((w) =>
          w.running
            ? `${w.queue}: a job has waited ${w.oldestWaitingAgeSeconds} s`
            : `${w.queue}: not running`,
        );
      return `jobs are not consumed (${bad.join(', ')}): restart this process`;
    });
    if (details) checks.workers!.details = details;
  }
  // A hung photo share costs photos, not events: reported, not a reason to take the worker out.
  if (rt.config.photo.fileRoot) await probe('photos', async () => photoShareProblem(rt.config.photo), true);
  await probe(
    'isp',
    async () => ((await rt.isp.ping()) ? undefined : `ISP at ${rt.config.isp.baseUrl} does not answer`),
    true,
  );
  await probe('lot-deletions', async () => {
    const guard = await rt.lotChanges.guard('parks');
    return guard
      ? `mass-deletion guard: nothing deleted: ${guard.reason}; if the lots really are gone, run \`isp-park-sync full-sync --confirm-deletes\`, else fix the vendor database or its mapping`
      : undefined;
  });
  const ok = Object.values(checks).every((c) => c.ok || c.informational);
  return { ok, checks };
}
