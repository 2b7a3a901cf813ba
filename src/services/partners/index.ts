/**
 * Partners: resellers, their partner viewers, the customers assigned to them, and the masked usage
 * view they read. Other folders import the domain through this file.
 */
export * from './number-masking.js';
export * from './partner-customers.js';
export * from './partner-users.js';
export * from './partners.js';
export * from './usage-csv.js';
export * from './usage-rules.js';
export * from './view.js';
