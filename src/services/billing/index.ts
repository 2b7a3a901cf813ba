/**
 * Billing: telecom accounts and their ledger, number blocks, usage records and their pricing, call
 * summaries and invoices, money. Other folders import the domain through this file.
 */
export * from './accounts.js';
export * from './invoice-api.js';
export * from './invoice-generation.js';
export * from './invoice-rules.js';
export * from './invoices.js';
export * from './money.js';
export * from './number-blocks.js';
export * from './over-limit.js';
export * from './overviews.js';
export * from './pricing.js';
export * from './rules.js';
export * from './summaries.js';
export * from './summary-rules.js';
export * from './usage-records.js';
export * from './usage-rules.js';
export * from './own-usage.js';
