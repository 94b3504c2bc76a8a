/** The vendor side: read-only pool, stream readers, photo fetch, schema checks. Never writes. */
export * from './errors.js';
export * from './events.js';
export * from './explain.js';
export * from './from-clause.js';
export * from './grants.js';
export * from './lots.js';
export * from './photo-read.js';
export * from './pool.js';
export * from './stream-sql.js';
export * from './validate.js';
export * from './zone.js';
