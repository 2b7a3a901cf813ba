import { API_SCOPES } from '../../services/integration/index.js';
import { operation, withClient, type ApiModule } from '../../web/api.js';

/** GET /api/v1/key: lets an integration check its key. */
export const keyApi: ApiModule = {
  paths: {
    '/key': {
      get: operation({
        summary: 'The API key in use',
        description: 'Lets an integration check its key works, which key it is, and what it may do. Any key may ask.',
        responses: {
          '200': {
            description: 'The key',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['name', 'scopes'],
                  properties: {
                    name: { type: 'string' },
                    scopes: { type: 'array', items: { type: 'string', enum: [...API_SCOPES] } },
                  },
                },
              },
            },
          },
        },
      }),
    },
  },
  mount(router) {
    router.get(
      '/key',
      withClient((_req, res, client) => {
        res.json({ name: client.name, scopes: client.scopes });
      }),
    );
  },
};
