import { createServer, type Server } from 'node:http';

/** What the server needs of a prom-client Registry. */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

/**
 * Serves /metrics (Prometheus text) and /healthz ({status: ok|stopped}) for a service without an
 * HTTP API of its own. Resolves once listening; rejects when the port cannot be bound.
 */
export async function startMetricsServer(o: { registry: MetricsSource; port: number; host?: string; healthy: () => boolean }): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('Content-Type', o.registry.contentType);
      res.end(await o.registry.metrics());
    } else if (req.url === '/healthz') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ status: o.healthy() ? 'ok' : 'stopped' }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', resolve);
  });
  return server;
}
