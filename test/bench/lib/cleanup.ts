/**
 * What must be undone if the bench is interrupted (Ctrl-C): open stacks (databases, users, Redis
 * keys, workers) and server settings changed for a measurement. Each registers its undo while it
 * is live; run.ts runs what is left on SIGINT/SIGTERM before exiting.
 */
const pending = new Set<() => Promise<unknown>>();

/** Registers `undo` until the returned function is called (when it has been done normally). */
export function undoOnInterrupt(undo: () => Promise<unknown>): () => void {
  pending.add(undo);
  return () => {
    pending.delete(undo);
  };
}

/** Runs every registered undo, newest first, within `timeoutMs`. */
export async function undoAll(timeoutMs: number): Promise<void> {
  const undos = [...pending].reverse();
  pending.clear();
  const all = (async () => {
    for (const undo of undos) await undo().catch(() => undefined);
  })();
  await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs))]);
}
