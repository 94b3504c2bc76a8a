export * from './env.js';
export * from './errors.js';
export * from './load.js';
export * from './redis-url.js';
export * from './schema.js';
