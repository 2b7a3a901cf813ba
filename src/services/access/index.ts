/**
 * Access: who may do what (roles and the one action × role table), navigation, and the scopes of what
 * an actor reaches. Other folders import the domain through this file.
 */
export * from './navigation.js';
export * from './roles.js';
export * from './scopes.js';
export * from './tenant-scope.js';
