/** The assets domain's public face: other folders import it through this file. */
export * from './call-record-rules.js';
export * from './call-records.js';
export * from './detail.js';
export * from './list-counts.js';
export * from './list-csv.js';
export * from './list-rules.js';
export * from './list.js';
export * from './renewal-reminders.js';
export * from './renewals.js';
export * from './requests.js';
export * from './rules.js';
export * from './subscription-rules.js';
