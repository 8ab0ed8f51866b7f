import express, { type RequestHandler, type Router } from 'express';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { ScimError } from '../scim/errors';
import type { DesiredStore } from '../store/types';
import { AuthFailureLog } from './auth-failure-log';
import { FailedAuthLimiter, type AuthLimit } from './auth-limiter';
import { bearerAuth, TokenSet, type BearerAuthOptions } from './auth';
import { jsonBodyParser } from './body';
import { scimErrorHandler } from './error-handler';
import type { ReadinessProbe } from './health';
import { opsRouter } from './ops-routes';
import { requestLog, routeLabel } from './request-log';
import type { ReconcileEnqueuer } from './scim-context';
import { scimRouter } from './scim-routes';

export interface AppDeps {
  config: Config;
  store: DesiredStore;
  producer: ReconcileEnqueuer;
  logger: Logger;
  metrics?: Metrics;
  /** The admin API, served under /admin behind ADMIN_TOKEN (absent token: /admin does not exist). */
  admin?: Router;
  readiness?: ReadinessProbe;
  /** Brings gauges read from Redis (queue depth, failures) up to date before /metrics renders. */
  refreshMetrics?: () => Promise<void>;
  /** Failed authentications allowed per client address and window (default 20 a minute). */
  authLimit?: AuthLimit;
  /** The accepted tokens, when the caller replaces them as their secret files change; default: from config. */
  tokens?: AppTokens;
}

export interface AppTokens {
  scim: TokenSet;
  admin?: TokenSet;
}

/** The token sets of the configuration (ADMIN_TOKEN unset: no admin set, and no /admin). */
export function tokensOf(config: Config): AppTokens {
  return { scim: new TokenSet(config.scim.tokens), admin: config.adminToken ? new TokenSet([config.adminToken]) : undefined };
}

const notFound: RequestHandler = (req, _res, next) => next(new ScimError(404, `No endpoint ${req.method} ${req.path}`));

/**
 * The HTTP surface: /healthz and /readyz (open), /scim/v2 (SCIM tokens), /admin and /metrics (admin token;
 * /metrics open when METRICS_OPEN). The SCIM and admin tokens are separate sets, so neither opens the other.
 */
export function createApp(deps: AppDeps): express.Express {
  const { config, logger, metrics } = deps;
  const app = baseApp(deps);
  const gate = authGate(deps);
  const body = jsonBodyParser(config.scim.maxBodyBytes);
  const tokens = deps.tokens ?? tokensOf(config);
  const scimAuth = bearerAuth({ scope: 'scim', tokens: tokens.scim, ...gate });
  const adminAuth = adminBearerAuth(tokens, gate);

  app.use(opsRouter({ logger, metrics, readiness: deps.readiness, metricsOpen: config.metricsOpen, adminAuth, refreshMetrics: deps.refreshMetrics }));
  app.use('/scim/v2', routeLabel('/scim/v2/*'), scimAuth, ...body, scimRouter(deps));
  if (adminAuth) app.use('/admin', routeLabel('/admin/*'), adminAuth, ...body, deps.admin ?? notFound);

  app.use(notFound);
  app.use(scimErrorHandler(logger));
  return app;
}

export type WorkerAppDeps = Pick<AppDeps, 'config' | 'logger' | 'metrics' | 'readiness' | 'authLimit' | 'tokens'>;

/** A `worker` process's HTTP surface: only /healthz, /readyz and /metrics, for probes and scrapes. */
export function createWorkerApp(deps: WorkerAppDeps): express.Express {
  const { config, logger, metrics } = deps;
  const app = baseApp(deps);
  const adminAuth = adminBearerAuth(deps.tokens ?? tokensOf(config), authGate(deps));
  app.use(opsRouter({ logger, metrics, readiness: deps.readiness, metricsOpen: config.metricsOpen, adminAuth }));
  app.use(notFound);
  app.use(scimErrorHandler(logger));
  return app;
}

/** What both apps share: the client-address rule, response headers, and the request log. */
function baseApp({ config, logger, metrics }: WorkerAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind an ingress, the client address (failed-auth limiting) and the Location URLs come from X-Forwarded-*.
  if (config.trustProxy !== undefined) app.set('trust proxy', config.trustProxy);
  // meta.version is the resource's ETag; Express's body-hash ETags would answer Okta's GETs with 304s.
  app.set('etag', false);
  app.use(noSniff);
  app.use(requestLog(logger, metrics));
  return app;
}

/** Every response, errors included, is taken for its declared type: no browser sniffs a SCIM body into HTML. */
const noSniff: RequestHandler = (_req, res, next) => {
  res.set('X-Content-Type-Options', 'nosniff');
  next();
};

type AuthGate = Pick<BearerAuthOptions, 'limiter' | 'failures'>;

/** One failure count and one failure log per process, shared by the SCIM and admin tokens. */
function authGate({ authLimit, logger }: WorkerAppDeps): AuthGate {
  return { limiter: new FailedAuthLimiter(authLimit), failures: new AuthFailureLog(logger) };
}

function adminBearerAuth(tokens: AppTokens, gate: AuthGate): RequestHandler | undefined {
  return tokens.admin ? bearerAuth({ scope: 'admin', tokens: tokens.admin, ...gate }) : undefined;
}
