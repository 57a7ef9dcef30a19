/** The catalyst-realtime.v1 protocol: schemas, types, codes, limits and the shared pure functions. */
export * from './audit.js';
export * from './change.js';
export * from './channel.js';
export * from './codec.js';
export * from './codes.js';
export * from './http.js';
export * from './json.js';
export * from './limits.js';
export * from './messages.js';
export * from './projection.js';
export * from './sort.js';
export * from './where.js';
