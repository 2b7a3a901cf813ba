/** The people domain's public face: other folders import it through this file. */
export * from './contact-verification.js';
export * from './contacts.js';
export * from './password-reset.js';
export * from './passwords.js';
export * from './sessions.js';
export * from './settings.js';
export * from './user-agent.js';
export * from './users.js';
export * from './sign-in.js';
export * from './rules.js';
