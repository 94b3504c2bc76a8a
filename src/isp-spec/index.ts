export * from './codes.js';
export * from './endpoints.js';
export * from './limits.js';
export * from './natural-keys.js';
export * from './schemas.js';
