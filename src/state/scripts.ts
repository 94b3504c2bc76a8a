/**
 * Our Lua scripts as commands of an ioredis client: it sends EVALSHA (the text only once per
 * connection, and again on NOSCRIPT). Defined once per client: several stores share one, and
 * redefining would make each connection load the scripts again.
 */
import type { RedisClient } from './redis-client.js';

export interface Script {
  numberOfKeys: number;
  lua: string;
}

/** The client typed as having the commands `C`, each defined from `scripts` unless it already is. */
export function scriptCommands<C extends object>(
  redis: RedisClient,
  scripts: Record<keyof C & string, Script>,
): C {
  for (const [name, script] of Object.entries<Script>(scripts))
    if (!(name in redis)) redis.defineCommand(name, script);
  return redis as RedisClient & C;
}
