export * from './load-config.js';
export * as parse from './parsers.js';
