/**
 * Assets: the devices and SIMs a customer subscribes to, their subscriptions and renewals, the
 * requests about them and the provider's queue. Other folders import the domain through this file.
 */
export * from './bulk.js';
export * from './call-record-rules.js';
export * from './call-records.js';
export * from './detail.js';
export * from './device-import.js';
export * from './due-deactivations.js';
export * from './job-effects.js';
export * from './list-counts.js';
export * from './list-csv.js';
export * from './list-rules.js';
export * from './list.js';
export * from './queue.js';
export * from './registration.js';
export * from './reminder-mail.js';
export * from './renewal-reminders.js';
export * from './renewals.js';
export * from './request-writes.js';
export * from './requests.js';
export * from './rules.js';
export * from './staff-devices.js';
export * from './subscription-rules.js';
