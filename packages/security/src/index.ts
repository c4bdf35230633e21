export * from './secret-box.js';
export * from './passwords.js';
export * from './tokens.js';
