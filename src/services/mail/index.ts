/** The mail domain's public face: other folders import it through this file. */
export * from './notifications.js';
export * from './outbox.js';
export * from './outgoing-mail.js';
export * from './transport.js';
