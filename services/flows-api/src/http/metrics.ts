import type { RequestHandler } from 'express';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FlowStore } from '@vaultflow/db';

/** The metrics flows-api exports at /metrics; one registry per app, so tests don't share state. */
export function createMetrics(flows: FlowStore): { registry: Registry; middleware: RequestHandler } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'vaultflow_flows',
    help: 'Protection flows by type and state (enabled/disabled)',
    labelNames: ['flow_type', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const t of ['backup', 'replication']) for (const s of ['enabled', 'disabled']) this.set({ flow_type: t, state: s }, 0);
      for (const r of await flows.countByTypeAndState()) this.set({ flow_type: r.flow_type, state: r.enabled ? 'enabled' : 'disabled' }, r.n);
    },
  });

  const middleware: RequestHandler = (req, res, next) => {
    const end = httpDuration.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      end({ method: req.method, route, status_code: String(res.statusCode) });
    });
    next();
  };
  return { registry, middleware };
}
