/**
 * What the ISP simulator holds per lot, read over its admin API as any test (or a process that
 * only knows the simulator's URL) would: GET /_sim/lots.
 */
import type { LotState } from '../../src/sim/isp/index.js';

/** Every lot the simulator heard of. */
export async function simLots(simUrl: string): Promise<LotState[]> {
  const res = await fetch(`${simUrl}/_sim/lots`);
  if (!res.ok) throw new Error(`GET /_sim/lots: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { lots: LotState[] }).lots;
}

/** One lot, or undefined when the simulator never heard of it. */
export async function simLot(simUrl: string, parkCode: string): Promise<LotState | undefined> {
  const res = await fetch(`${simUrl}/_sim/lots?code=${encodeURIComponent(parkCode)}`);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new Error(`GET /_sim/lots?code=${parkCode}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as LotState;
}
