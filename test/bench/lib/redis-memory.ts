/**
 * Redis memory as the catch-up benchmark reports it: the server's `used_memory` (global: it
 * includes every other client's data on a shared server, hence the baseline taken before the run)
 * sampled in the background, and the memory of this run's own keys (SCAN of the prefix + MEMORY
 * USAGE), taken at chosen moments because it is too costly to sample continuously.
 */
import type { Redis } from 'ioredis';

export async function usedMemoryMb(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 1024 / 1024;
}

export function sampleUsedMemory(redis: Redis, everyMs = 250) {
  let peak = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const mb = await usedMemoryMb(redis).catch(() => 0);
      if (mb > peak) peak = mb;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    peak: () => peak,
    async stop() {
      stopped = true;
      await loop;
      return peak;
    },
  };
}

/** Memory of every key under `prefix`, MB, with the key count and the share of ledger buckets. */
export async function prefixMemory(redis: Redis, prefix: string) {
  let bytes = 0;
  let keys = 0;
  let ledgerBytes = 0;
  let ledgerKeys = 0;
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (batch.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const key of batch) pipeline.memory('USAGE', key, 'SAMPLES', '0');
    const results = (await pipeline.exec()) ?? [];
    results.forEach(([error, value], i) => {
      if (error) return;
      const n = Number(value ?? 0);
      bytes += n;
      keys++;
      if (batch[i]!.includes(':ledger:')) {
        ledgerBytes += n;
        ledgerKeys++;
      }
    });
  } while (cursor !== '0');
  return { mb: bytes / 1024 / 1024, keys, ledgerMb: ledgerBytes / 1024 / 1024, ledgerKeys };
}
