import { USAGE_RECORD, usageRecordKind } from '../../services/integration/index.js';
import { batchOperation, batchRoute, recordSchema, type ApiModule } from '../../web/api.js';

/** POST /api/v1/usage-records: metered usage in batches of up to 10,000 records, all or nothing. */
export const usageRecordsApi: ApiModule = {
  paths: {
    '/usage-records': {
      post: batchOperation(
        'Send usage records',
        'Metered usage (voice calls, SMS, video sessions, messaging-app messages), each of an asset (identifier) ' +
          'or of a customer (account_id), or both when they agree; contact_name and content belong to SMS and ' +
          'messaging records only, and occurred_at lies at most a day ahead. ' +
          'Prices are in integer minor units of the customer’s currency.',
        'UsageRecord',
        'usage:write',
      ),
    },
  },
  schemas: { UsageRecord: recordSchema(USAGE_RECORD) },
  mount(router, ctx) {
    router.post('/usage-records', batchRoute(ctx, usageRecordKind));
  },
};
