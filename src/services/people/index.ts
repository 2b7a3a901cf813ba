/**
 * People: logins and their memberships (sign-in, passwords, activation, sessions, settings), and the
 * customer users and contacts that admins manage. Other folders import the domain through this file.
 */
export * from './activation.js';
export * from './contact-passwords.js';
export * from './contact-verification.js';
export * from './contacts.js';
export * from './new-users.js';
export * from './operators.js';
export * from './password-reset.js';
export * from './passwords.js';
export * from './sessions.js';
export * from './session-actor.js';
export * from './settings.js';
export * from './user-agent.js';
export * from './users.js';
export * from './view-as.js';
export * from './user-sessions.js';
export * from './sign-in.js';
export * from './two-factor.js';
export * from './two-factor-rules.js';
export * from './rules.js';
// TODO(issue 15, this session): partner users moved to partners/; kept here until routes import them from there
export { createPartnerUser, reissuePartnerActivation, type PartnerUser } from '../partners/index.js';
