import { operation, withClient, type ApiModule } from '../../web/api.js';

/** GET /api/v1/key: lets an integration check its key. */
export const keyApi: ApiModule = {
  paths: {
    '/key': {
      get: operation({
        summary: 'The API key in use',
        description: 'Lets an integration check its key works, and which key it is.',
        responses: {
          '200': {
            description: 'The key',
            content: {
              'application/json': {
                schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
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
        res.json({ name: client.name });
      }),
    );
  },
};
