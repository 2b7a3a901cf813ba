/**
 * Scheduled reports by mail: the weekly fleet digest and the monthly statement, each once per person per
 * period. Other folders import the domain through this file.
 */
export * from './period-rules.js';
export * from './report-mail.js';
export * from './scheduled-reports.js';
