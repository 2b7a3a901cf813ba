/** The sites domain's public face: other folders import it through this file. */
export * from './geofence-rules.js';
export * from './map.js';
export * from './portal-access.js';
export * from './rules.js';
export * from './service-visits.js';
export * from './site-visits.js';
export * from './sites.js';
export * from './viewers.js';
