/** The tenants domain's public face: other folders import it through this file. */
export * from './help-link-rules.js';
export * from './settings.js';
