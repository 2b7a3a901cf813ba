/** The access domain's public face: other folders import it through this file. */
export * from './policy.js';
export * from './tenant-scope.js';
