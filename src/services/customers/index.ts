/** The customers domain's public face: other folders import it through this file. */
export * from './customers.js';
export * from './home.js';
export * from './rules.js';
