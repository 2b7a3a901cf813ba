/**
 * Tenants: the deployment's tenants as its operator manages them, and each provider's own settings,
 * such as its help links. Other folders import the domain through this file.
 */
export * from './help-link-rules.js';
export * from './settings.js';
export * from './tenants.js';
