/**
 * `/readyz` of a process that runs several sources: ready only when every running source is ready
 * (each judged by its own checks, jobs/readiness.ts). The answer keeps the shape of one source's
 * (`{ok, checks}`), so probes and scripts written for one source go on working:
 * - one source running: `checks` are that source's own, as before sources existed;
 * - several: one check per source, named by it, whose message lists what fails there;
 * - none: one failing check `sources`, saying why.
 * `sources` has every running source's whole verdict, `idle` the sources not running and why
 * (they do not decide readiness: their state waits in Redis and nothing runs for them here).
 */
import type { FleetView, IdleSource, SourceReadiness } from '../pipeline/fleet-view.js';

export interface FleetReadiness extends SourceReadiness {
  sources: Record<string, SourceReadiness>;
  idle: Array<{ name: string; state: IdleSource['state']; reason: string; since: number }>;
}

export async function fleetReadiness(fleet: FleetView): Promise<FleetReadiness> {
  const verdicts = await Promise.all(
    fleet.sources().map(async (source) => ({
      name: source.name,
      readiness: await source.readiness().catch(
        (error: unknown): SourceReadiness => ({
          ok: false,
          checks: {
            readiness: { ok: false, message: error instanceof Error ? error.message : String(error) },
          },
        }),
      ),
    })),
  );
  return combineReadiness(verdicts, fleet.idle());
}

/** Pure: the process's verdict from each running source's, and the idle sources. */
export function combineReadiness(
  verdicts: Array<{ name: string; readiness: SourceReadiness }>,
  idle: IdleSource[],
): FleetReadiness {
  const sources = Object.fromEntries(verdicts.map((v) => [v.name, v.readiness]));
  const idleList = idle.map((s) => ({
    name: s.name,
    state: s.state,
    reason: s.reason,
    since: Math.floor(s.since / 1000),
  }));
  if (verdicts.length === 0) {
    const why = idle.length ? `: ${idle.map((s) => `${s.name} ${s.state} (${s.reason})`).join('; ')}` : '';
    return {
      ok: false,
      checks: {
        sources: {
          ok: false,
          message: `no source is running in this process${why}; correct the config and reload`,
        },
      },
      sources,
      idle: idleList,
    };
  }
  if (verdicts.length === 1) {
    const only = verdicts[0]!.readiness;
    return { ok: only.ok, checks: only.checks, sources, idle: idleList };
  }
  const checks: SourceReadiness['checks'] = {};
  for (const { name, readiness } of verdicts) {
    const failing = Object.entries(readiness.checks).filter(([, c]) => !c.ok && !c.informational);
    checks[name] = readiness.ok
      ? { ok: true }
      : {
          ok: false,
          message: failing.length
            ? failing.map(([check, c]) => `${check}: ${c.message ?? 'failed'}`).join('; ')
            : 'not ready',
        };
  }
  return { ok: verdicts.every((v) => v.readiness.ok), checks, sources, idle: idleList };
}
