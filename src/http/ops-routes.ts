import { Router, type RequestHandler } from 'express';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { healthRouter, type ReadinessProbe } from './health';
import { routeLabel } from './request-log';

export interface OpsRoutesDeps {
  logger: Logger;
  readiness?: ReadinessProbe;
  metrics?: Metrics;
  /** METRICS_OPEN: /metrics needs no token (a scrape from inside the cluster). */
  metricsOpen: boolean;
  /** Guards /metrics when it is not open; without it (no ADMIN_TOKEN) /metrics is not served at all. */
  adminAuth?: RequestHandler;
  /** Brings gauges read from Redis up to date before /metrics renders. */
  refreshMetrics?: () => Promise<void>;
}

/** The routes every process serves, SCIM or not: /healthz, /readyz and /metrics. */
export function opsRouter(deps: OpsRoutesDeps): Router {
  const { metrics } = deps;
  const router = Router();
  router.use(healthRouter(deps.logger, deps.readiness));
  const gate = deps.metricsOpen ? [] : deps.adminAuth ? [deps.adminAuth] : undefined;
  if (metrics && gate) {
    router.get('/metrics', routeLabel('/metrics'), ...gate, async (_req, res) => {
      await deps.refreshMetrics?.();
      res.set('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }
  return router;
}
