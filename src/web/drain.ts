import type { Server } from 'node:http';

/**
 * Closes the server as a load balancer expects on SIGTERM: no new connections, the requests in
 * flight run to their end, and a kept-alive connection closes once its request is answered.
 * Resolves when every connection has closed.
 */
export function drainServer(server: Server): Promise<void> {
  // a request that still arrives on a kept-alive connection is answered, then its connection closes
  server.on('request', (_req, res) => res.setHeader('Connection', 'close'));
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
