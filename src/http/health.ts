import { Router } from 'express';
import type { Logger } from '../log';
import { routeLabel } from './request-log';

export interface Readiness {
  ok: boolean;
  /** The one dependency that failed ("redis" or "coder"): nothing more, since /readyz is unauthenticated. */
  failing?: string;
}

export type ReadinessProbe = () => Promise<Readiness>;

/** /healthz: the process serves. /readyz: its dependencies answer. Neither needs a token. */
export function healthRouter(logger: Logger, readiness?: ReadinessProbe): Router {
  const router = Router();
  router.get('/healthz', routeLabel('/healthz'), (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  router.get('/readyz', routeLabel('/readyz'), async (_req, res) => {
    let result: Readiness;
    try {
      result = readiness ? await readiness() : { ok: true };
    } catch (err) {
      logger.warn({ event: 'readiness_probe_failed', err }, 'readiness probe failed');
      result = { ok: false };
    }
    if (result.ok) {
      res.status(200).json({ status: 'ok' });
      return;
    }
    res.status(503).json(result.failing ? { status: 'unavailable', failing: result.failing } : { status: 'unavailable' });
  });
  return router;
}
