/**
 * Mail: the outbox and its pump, the transport, kept mail, and each person's notification switches
 * with their unsubscribe links. Other folders import the domain through this file.
 */
export * from './notifications.js';
export * from './outbox.js';
export * from './outgoing-mail.js';
export * from './transport.js';
