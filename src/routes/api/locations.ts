import { LOCATION_RECORD, locationKind } from '../../services/integration/index.js';
import { batchOperation, batchRoute, recordSchema, type ApiModule } from '../../web/api.js';

/** POST /api/v1/locations: positions of devices in batches of up to 10,000 records, all or nothing. */
export const locationsApi: ApiModule = {
  paths: {
    '/locations': {
      post: batchOperation(
        'Send device locations',
        'Positions of devices, named by their identifier (IMEI or serial). ' +
          "Each asset's last location becomes the newest position received; " +
          'older positions are kept in its track without moving it back. ' +
          'A position of a device at a time already received is ignored, so sending a batch again changes nothing. ' +
          'An identifier that names no asset of your tenant is an error of that record.',
        'Location',
        'locations:write',
      ),
    },
  },
  schemas: { Location: recordSchema(LOCATION_RECORD) },
  mount(router, ctx) {
    router.post('/locations', batchRoute(ctx, locationKind));
  },
};
