/**
 * Integration: how other systems talk to the provider's portal: API keys, idempotent requests, the
 * ingestion of locations, usage records and service visits, and CSV imports. Imported through this file.
 */
export * from './api-keys.js';
export * from './csv-import.js';
export * from './idempotency.js';
export * from './import-kinds.js';
export * from './ingestion.js';
export * from './record-rules.js';
export * from './scope-rules.js';
