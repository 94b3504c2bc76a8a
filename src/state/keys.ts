/**
 * Names of our own Redis keys (never the vendor's data). Everything lives under the configured
 * prefix, which carries a {hash tag} so BullMQ's keys and ours share one Redis Cluster slot.
 */
export function stateKey(prefix: string, ...parts: string[]): string {
  return [prefix, 'state', ...parts].join(':');
}
