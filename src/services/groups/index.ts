/**
 * Groups: the groups and sub-groups a customer sorts its assets into, the people assigned to them,
 * and the devices map. Other folders import the domain through this file.
 */
export * from './group-edits.js';
export * from './group-row.js';
export * from './group-users.js';
export * from './groups.js';
export * from './map.js';
export * from './rules.js';
export * from './tree.js';
