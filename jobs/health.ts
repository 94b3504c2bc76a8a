/**
 * BullMQ processor of the lot health alerts: one job = one evaluation (src/pipeline/health/). The
 * queue's job scheduler runs it every `alerts.evaluateEveryMs` and its global concurrency of 1 makes
 * it a singleton across all processes, so an alert fires once however many workers run.
 */

import { healthDeps } from '../src/pipeline/health/deps.js';
import { evaluateHealth } from '../src/pipeline/health/evaluate.js';
import type { Runtime } from '../src/pipeline/runtime.js';
import type { StateGuard } from '../src/pipeline/state-guard.js';

export function healthProcessor(rt: Runtime, options: { guard?: StateGuard } = {}) {
  const deps = healthDeps(rt);
  return async () => {
    if (!rt.config.alerts.enabled) return { skipped: 'alerts.enabled is false' };
    // After a loss of the state there is nothing to judge by (and `STATE LOST` is the alert).
    if (options.guard && !(await options.guard.check({ keepEvidence: false })).ok)
      return { skipped: 'state lost' };
    const run = await evaluateHealth(deps);
    return {
      active: run.active.length,
      fired: run.fired.map((a) => a.id),
      cleared: run.cleared.map((a) => a.id),
      messagesSent: run.messagesSent,
      waiting: run.waiting,
    };
  };
}
