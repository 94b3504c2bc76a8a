export * from './faults.js';
export * from './kinds.js';
export * from './lots.js';
export * from './server.js';
export * from './state.js';
export * from './store.js';
export * from './tokens.js';
export * from './validate.js';
