export * from './isp-config-error.js';
export * from './token-error.js';
