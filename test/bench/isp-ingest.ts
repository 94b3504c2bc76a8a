/**
 * The ISP-ingest ceiling (`ceiling-isp-ingest`): how many entrance records per second the
 * simulator (light storage, in this process, as in every pipeline run) accepts from a bare undici
 * loop in another process posting batches of 100 with as many requests in flight as the worker's
 * ISP connection pool holds. With a photo file, the same with every record carrying that photo
 * (batches then stop at the 8 MB body bound): the ceiling for photo-carrying events.
 */
import { startSimulator } from '../../src/sim/isp/index.js';
import { runScript } from './lib/child.js';
import type { Run } from './lib/report.js';
import { CLIENT_ID, CLIENT_SECRET } from './lib/stack.js';

export const INGEST_CLIENT = 'test/bench/lib/ingest-client.ts';

export async function measureIspIngest(options: {
  records: number;
  batch: number;
  inflight: number;
  rounds: number;
  photoFile?: string;
  /** Share of the batches that are departures (0 to 1; default 0: entrances only). */
  departureShare?: number;
}): Promise<Run[]> {
  const sim = await startSimulator({ storage: 'light', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  const runs: Run[] = [];
  try {
    for (let r = 0; r < options.rounds; r++) {
      sim.reset();
      const out = await runScript<{
        records: number;
        accepted: number;
        failed: number;
        ms: number;
        batch: number;
      }>(
        INGEST_CLIENT,
        [
          sim.url,
          String(options.records),
          String(options.batch),
          String(options.inflight),
          ...(options.photoFile ? [options.photoFile] : []),
        ],
        {
          BENCH_CLIENT_ID: CLIENT_ID,
          BENCH_CLIENT_SECRET: CLIENT_SECRET,
          BENCH_DEPARTURE_SHARE: String(options.departureShare ?? 0),
        },
      );
      const stored = sim.state.store.count('entrance') + sim.state.store.count('departure');
      if (out.failed > 0 || stored !== out.accepted || out.accepted < options.records * 0.9)
        throw new Error(`ingest ceiling: ${out.accepted} accepted, ${out.failed} failed, ${stored} stored`);
      runs.push({
        value: out.accepted / (out.ms / 1000),
        records: out.accepted,
        recordsPerRequest: out.batch,
        seconds: out.ms / 1000,
      });
    }
  } finally {
    await sim.close();
  }
  return runs;
}
