export * from './batches.js';
export * from './client.js';
export * from './errors/index.js';
export * from './outcome.js';
export * from './record-text.js';
export type { TokenState } from './token-manager.js';
export { TokenManager } from './token-manager.js';
export { buildTokenRequest, scrubSecrets } from './token-request.js';
