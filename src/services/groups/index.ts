/** The groups domain's public face: other folders import it through this file. */
export * from './groups.js';
export * from './map.js';
export * from './rules.js';
export * from './tree.js';
