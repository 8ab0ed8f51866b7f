import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric the bridge exports, in one registry per process (tests create their own).
 * Names follow Prometheus conventions: a `coder_scim_bridge_` namespace, base units, `_total` on counters.
 */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  scimOperations: Counter<'resource' | 'operation'>;
  reconciles: Counter<'kind' | 'outcome'>;
  reconcileDuration: Histogram<'kind'>;
  queueJobs: Gauge<'state'>;
  coderRequests: Counter<'route' | 'status'>;
  coderDuration: Histogram<'route'>;
  permanentFailures: Gauge<'kind'>;
  lastResyncSuccess: Gauge;
  coderUp: Gauge;
  coderAuthFailing: Gauge;
  accessPolicyRules: Gauge;
  accessPolicyInfo: Gauge<'fingerprint'>;
  accessPolicyReloadFailures: Counter;
  idpSyncOverlaps: Gauge;
}

const NAMESPACE = 'coder_scim_bridge_';
const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: NAMESPACE });
    // prom-client names these gauges *_total, which promtool (and Prometheus' naming rules) reserve for counters.
    for (const misnamed of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(`${NAMESPACE}${misnamed}`);
  }
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: `${NAMESPACE}http_requests_total`,
      help: 'HTTP requests answered, by method, route template and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: `${NAMESPACE}http_request_duration_seconds`,
      help: 'Time to answer an HTTP request, by method and route template.',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    scimOperations: new Counter({
      name: `${NAMESPACE}scim_operations_total`,
      help: 'SCIM operations accepted, by resource type and operation.',
      labelNames: ['resource', 'operation'],
      registers,
    }),
    reconciles: new Counter({
      name: `${NAMESPACE}reconciles_total`,
      help: 'Reconciles run, by resource kind and outcome (applied, unchanged, skipped, failed_permanent, retry, rate_limited, coder_auth).',
      labelNames: ['kind', 'outcome'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: `${NAMESPACE}reconcile_duration_seconds`,
      help: 'Time one reconcile took, by resource kind.',
      labelNames: ['kind'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    queueJobs: new Gauge({
      name: `${NAMESPACE}queue_jobs`,
      help: 'Reconcile jobs in the queue, by state.',
      labelNames: ['state'],
      registers,
    }),
    coderRequests: new Counter({
      name: `${NAMESPACE}coder_requests_total`,
      help: 'Calls to the Coder API, by route template and status code (0 for a network error).',
      labelNames: ['route', 'status'],
      registers,
    }),
    coderDuration: new Histogram({
      name: `${NAMESPACE}coder_request_duration_seconds`,
      help: 'Latency of calls to the Coder API, by route template.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    permanentFailures: new Gauge({
      name: `${NAMESPACE}permanent_failures`,
      help: 'Resources whose last reconcile failed permanently, by kind.',
      labelNames: ['kind'],
      registers,
    }),
    lastResyncSuccess: new Gauge({
      name: `${NAMESPACE}last_resync_success_timestamp_seconds`,
      help: 'Unix time of the last full resync that completed without failures.',
      registers,
    }),
    coderUp: new Gauge({
      name: `${NAMESPACE}coder_up`,
      help: 'Whether Coder answered the last call this process made to it (1) or not (0).',
      registers,
    }),
    coderAuthFailing: new Gauge({
      name: `${NAMESPACE}coder_auth_failing`,
      help: 'Whether Coder refuses the bridge token or its privileges (1): reconciles are paused until it works.',
      registers,
    }),
    accessPolicyRules: new Gauge({
      name: `${NAMESPACE}access_policy_rules`,
      help: 'Rules of the access policy this process applies (0 without ACCESS_POLICY_FILE, and in `serve`, which applies none: see /admin/status).',
      registers,
    }),
    accessPolicyInfo: new Gauge({
      name: `${NAMESPACE}access_policy_info`,
      help: 'Always 1, labelled with the fingerprint of the access policy this worker process applies: worker replicas that differ apply different policies.',
      labelNames: ['fingerprint'],
      registers,
    }),
    accessPolicyReloadFailures: new Counter({
      name: `${NAMESPACE}access_policy_reload_failures_total`,
      help: 'Reloads of ACCESS_POLICY_FILE refused because the file was invalid or unreadable (the policy in use stayed).',
      registers,
    }),
    idpSyncOverlaps: new Gauge({
      name: `${NAMESPACE}idp_sync_overlaps`,
      help: "Overlaps between Coder's own IdP sync settings and what the access policy grants, as of the last check (see /admin/status).",
      registers,
    }),
  };
}
