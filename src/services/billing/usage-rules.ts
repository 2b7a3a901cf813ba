import { msg } from '../platform/i18n.js';
/** What a usage record can be: products, directions and statuses, and how products are named. */
export const PRODUCTS = ['sms', 'voice', 'video', 'messaging'] as const;
export type Product = (typeof PRODUCTS)[number];
export const DIRECTIONS = ['inbound', 'outbound'] as const;
export type Direction = (typeof DIRECTIONS)[number];
/** `in_progress`: a call or video session still going on (it counts as a channel in use); it is updated when it ends */
export const USAGE_STATUSES = [
  'in_progress',
  'answered',
  'no_answer',
  'busy',
  'failed',
  'delivered',
  'pending',
  'rejected',
] as const;
export type UsageStatus = (typeof USAGE_STATUSES)[number];

export const PRODUCT_LABELS: Record<Product, string> = {
  sms: 'SMS',
  voice: msg('Voice'),
  video: msg('Video'),
  messaging: msg('Messaging apps'),
};

/** A record as it arrives, already validated and resolved to its customer (and asset, if any). */
