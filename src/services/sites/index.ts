/**
 * Sites: the serviced places with their geofences, services, visits and pictures, the site viewers'
 * map and login links, and a customer's portal access. Other folders import the domain through this file.
 */
export * from './geofence-rules.js';
export * from './map.js';
export * from './portal-access.js';
export * from './rules.js';
export * from './service-visits.js';
export * from './site-visits.js';
export * from './sites.js';
export * from './viewers.js';
