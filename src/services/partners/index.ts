/** The partners domain's public face: other folders import it through this file. */
export * from './number-masking.js';
export * from './partners.js';
export * from './usage-rules.js';
export * from './view.js';
