/** The tickets domain's public face: other folders import it through this file. */
export * from './rules.js';
export * from './tickets.js';
