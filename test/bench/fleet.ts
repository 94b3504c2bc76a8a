/**
 * The `fleet` group: several sources (vendor systems) in one worker process, and one source in
 * several processes. Three questions, each answered against a ceiling measured in the same run:
 * - `fleet-fairness-p99` (fleet-fairness.ts): a live source's commit → ISP p99 while another source
 *   drains a backlog in the same process, against the live source alone;
 * - `fleet-scaleout-ratio` (fleet-scaleout.ts): a backlog behind a slow ISP with bounded connections
 *   per process, 2 worker processes against 1;
 * - `fleet-idle-cpu` (fleet-idle.ts): an idle worker's CPU with 20 sources, against 1 source.
 * Every database, Redis prefix (the base and each source's) and worker is the group's own and removed.
 */

import { runFleetFairness } from './fleet-fairness.js';
import { runFleetIdle } from './fleet-idle.js';
import { runFleetScaleout } from './fleet-scaleout.js';
import type { BenchContext } from './lib/context.js';

export async function runFleetGroup(ctx: BenchContext): Promise<void> {
  const group = 'fleet';
  await runFleetFairness(ctx, group);
  await runFleetScaleout(ctx, group);
  await runFleetIdle(ctx, group);
}
