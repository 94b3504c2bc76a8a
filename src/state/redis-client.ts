/**
 * The client every store takes: one Redis server's, or a Redis Cluster's (the same commands; the
 * cluster client sends each to the node of its key's slot, and every key of ours shares the
 * prefix's slot). Made only by src/pipeline/redis-options.ts.
 */
import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;
