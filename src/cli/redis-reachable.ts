/** One clear line when Redis is away, before a command makes the clients that would retry noisily. */
import { probeRedis, ServiceUnreachableError } from '../pipeline/reachability.js';

/**
 * One attempt to reach Redis (src/pipeline/reachability.ts: what was tried, what to check); when it
 * fails, a sentence that also says what the command (`what`) cannot do without it.
 */
export async function assertRedisReachable(url: string, what: string): Promise<void> {
  try {
    await probeRedis(url);
  } catch (error) {
    if (!(error instanceof ServiceUnreachableError)) throw error;
    throw new Error(`${error.message}. ${what}`);
  }
}
