/**
 * Pusher workers of other processes on a push queue: what tells a poll with a backlog to share it
 * through the queue instead of delivering it alone (src/pipeline/events/direct-delivery.ts
 * `handOnBy`). A push Worker is named per process (`pusherName`), and BullMQ names its blocking
 * connection `<prefix>:<queue>:w:<name>`; `Queue#getWorkers()` lists those connections (CLIENT
 * LIST, on every node of a Redis Cluster).
 */
import { hostname } from 'node:os';

/** The name of this process's push workers: unique per process among those sharing a Redis. */
export function pusherName(): string {
  return `${hostname()}:${process.pid}`;
}

/** One connection `getWorkers()` lists (`rawname`: the connection's own name). */
export interface WorkerClient {
  rawname?: string;
}

/**
 * The workers listed that belong to another process: any name but `own`. An unnamed worker (a
 * process of an older version) is another process too. An entry without a connection name is not
 * a worker (BullMQ's placeholder where CLIENT LIST is refused).
 */
export function otherWorkers(clients: readonly WorkerClient[], own: string): number {
  const mine = `:w:${own}`;
  return clients.filter((c) => c.rawname !== undefined && !c.rawname.endsWith(mine)).length;
}

/** How long an answer is believed: a backlog must not run CLIENT LIST for each page. */
export const PEER_PUSHERS_TTL_MS = 5_000;

export interface PeerPushersOptions {
  ttlMs?: number;
  now?: () => number;
  /** A failed look (the answer is then 0: the process delivers as if alone, as before). */
  onError?: (error: Error) => void;
}

/** Counts other processes' pushers per queue, each answer kept `ttlMs`. */
export class PeerPushers {
  private readonly cache = new Map<string, { at: number; count: Promise<number> }>();

  constructor(
    /** This process's push workers' name (`pusherName()`). */
    readonly own: string,
    private readonly options: PeerPushersOptions = {},
  ) {}

  count(queue: { name: string; getWorkers(): Promise<WorkerClient[]> }): Promise<number> {
    const now = (this.options.now ?? Date.now)();
    const kept = this.cache.get(queue.name);
    if (kept && now - kept.at < (this.options.ttlMs ?? PEER_PUSHERS_TTL_MS)) return kept.count;
    const count = queue.getWorkers().then(
      (clients) => otherWorkers(clients, this.own),
      (error: Error) => {
        this.options.onError?.(error);
        return 0;
      },
    );
    this.cache.set(queue.name, { at: now, count });
    return count;
  }
}
