export * from './env.js';
export * from './errors.js';
export * from './load.js';
export { configErrorFrom, deepMerge } from './load-tree.js';
export * from './redis-url.js';
export * from './schema.js';
export * from './sources.js';
