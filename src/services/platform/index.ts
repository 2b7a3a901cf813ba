/** Platform: what every domain leans on: job runs and locks, rate limits, tokens, audit entries, health, formats. */
export * from './admission.js';
export * from './audit.js';
export * from './audit-rules.js';
export * from './csv.js';
export * from './health.js';
export * from './job-lock.js';
export * from './job-runs.js';
export * from './rate-limits.js';
export * from './time-format.js';
export * from './text-rules.js';
export * from './tokens.js';
export * from './paging.js';
export * from './audit-chain.js';
export * from './audit-export.js';
export * from './i18n.js';
