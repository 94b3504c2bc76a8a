/**
 * State is never rolled back: a replayed lot or count job sends the lot's state as the vendor holds
 * it now (the table is small and re-read whole), never the snapshot in the job; a replayed DELETE
 * goes only if the lot is still gone from the vendor's table.
 */
import { RecordRejectedError } from '../errors.js';
import type { LotsJobData } from '../push-queue.js';
import type { Runtime } from '../runtime.js';
import { throwUnlessDelivered } from '../send-outcome.js';
import { LOT_STREAMS } from '../streams.js';
import type { LotFlushDeps } from './flush.js';

export type CurrentStateResult = { sent: number; deleted: number; skipped?: string };

export async function sendCurrentState(
  rt: Runtime,
  data: LotsJobData & { isolated: NonNullable<LotsJobData['isolated']> },
  deps: LotFlushDeps,
): Promise<CurrentStateResult> {
  const { stream, isolated } = data;
  const code = isolated.item.code;
  const def = LOT_STREAMS[stream];
  const at = Date.now();
  const rows = await def.read(rt.vendor, rt.config);
  const current = rows.map((row) => def.toItem(row, rt.transform)).find((o) => o.code === code);
  if (isolated.action === 'delete') {
    if (current?.item && !current.deleted)
      return { sent: 0, deleted: 0, skipped: `lot ${code} is back in the vendor's lot table` };
    const outcome = await deps.sendDeletes([code]);
    throwUnlessDelivered(outcome, code);
    await deps.store.markDeleted(stream, [code], at);
    return { sent: 0, deleted: 1 };
  }
  if (!current?.item || current.deleted)
    return { sent: 0, deleted: 0, skipped: `lot ${code} is no longer in the vendor's table` };
  if (current.reasons?.length)
    throw new RecordRejectedError(
      `the vendor's row cannot be sent now: ${current.reasons.map((r) => r.message).join('; ')}`,
      code,
    );
  const item = { ...current.item, at, json: JSON.stringify(current.item.payload) };
  const admitted = deps.admit ? (await deps.admit([item])).go : [item];
  if (admitted.length === 0)
    return {
      sent: 0,
      deleted: 0,
      skipped: `lot ${code} is not registered at ISP yet: the count follows its registration`,
    };
  throwUnlessDelivered(await deps.send([item]), code);
  await deps.store.markSent(stream, [item]);
  await deps.onSent?.([item]);
  return { sent: 1, deleted: 0 };
}
