/** The integration domain's public face: other folders import it through this file. */
export * from './api-keys.js';
export * from './csv-import.js';
export * from './idempotency.js';
export * from './import-kinds.js';
export * from './ingestion.js';
