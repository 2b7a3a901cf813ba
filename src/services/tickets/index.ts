/**
 * Tickets: what customers raise with their provider about an asset or their account, the thread
 * of comments and replies, and its followers. Other folders import the domain through this file.
 */
export * from './rules.js';
export * from './ticket-changes.js';
export * from './ticket-mail.js';
export * from './ticket-page.js';
export * from './tickets.js';
