/** One clear line when Redis is away, before a command makes the clients that would retry noisily. */
import { Redis as IORedis } from 'ioredis';
import { redisOptions } from '../pipeline/queues.js';
import { redactUrl } from '../redact.js';

/**
 * Connects once with a client that does not retry, and throws a sentence (what was tried, what
 * to check, `what` the command cannot do without Redis) when Redis does not answer.
 */
export async function assertRedisReachable(url: string, what: string): Promise<void> {
  const probe = new IORedis(
    redisOptions(url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true }),
  );
  let cause: string | undefined;
  probe.on('error', (error: Error) => {
    cause ??= error.message;
  });
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new Error(
      `Redis is unreachable at ${redactUrl(url)} (${cause ?? (error as Error).message}): is it running, and are REDIS_URL ` +
        `and the network right? ${what}`,
    );
  } finally {
    probe.disconnect();
  }
}
