/**
 * Customers: the provider's customers and their inner customers, their home page and audit log.
 * Other folders import the domain through this file.
 */
export * from './customer-audit.js';
export * from './customer-deletion.js';
export * from './customers.js';
export * from './home.js';
export * from './rules.js';
