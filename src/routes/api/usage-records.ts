import { usageRecordKind } from '../../services/integration/index.js';
import { DIRECTIONS, PRODUCTS, USAGE_STATUSES } from '../../services/billing/index.js';
import { batchOperation, batchRoute, DATE_TIME, type ApiModule } from '../../web/api.js';

/** POST /api/v1/usage-records: metered usage in batches of up to 10,000 records, all or nothing. */
export const usageRecordsApi: ApiModule = {
  paths: {
    '/usage-records': {
      post: batchOperation(
        'Send usage records',
        'Metered usage (voice calls, SMS, video sessions, messaging-app messages), each of an asset (identifier) ' +
          'or of a customer (account_id), or both when they agree. ' +
          'Prices are in integer minor units of the customer’s currency.',
        'UsageRecord',
        'usage:write',
      ),
    },
  },
  schemas: {
    UsageRecord: {
      type: 'object',
      required: ['product', 'occurred_at', 'direction', 'status', 'from_number', 'to_number'],
      properties: {
        identifier: {
          type: 'string',
          maxLength: 64,
          description: 'The asset (SIM or device); required unless account_id is given',
        },
        account_id: { type: 'string', maxLength: 32, description: 'The customer; required unless identifier is given' },
        product: { type: 'string', enum: [...PRODUCTS] },
        occurred_at: DATE_TIME,
        direction: { type: 'string', enum: [...DIRECTIONS] },
        status: { type: 'string', enum: [...USAGE_STATUSES] },
        from_number: { type: 'string', maxLength: 32 },
        to_number: { type: 'string', maxLength: 32 },
        duration_seconds: { type: 'integer', minimum: 0, default: 0 },
        units: { type: 'integer', minimum: 0, default: 1 },
        price_minor: {
          type: 'integer',
          description:
            "minor units; omitted, the customer's price list in force at occurred_at prices the record (0 without one)",
        },
        contact_name: { type: 'string', maxLength: 200, description: 'SMS and messaging only' },
        content: { type: 'string', maxLength: 5000, description: 'SMS and messaging only' },
      },
    },
  },
  mount(router, ctx) {
    router.post('/usage-records', batchRoute(ctx, usageRecordKind));
  },
};
