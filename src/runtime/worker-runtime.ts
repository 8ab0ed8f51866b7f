import type { CoderClient } from '../coder/client';
import type { CoderHealth } from '../coder/health';
import { coderPreflight } from '../coder/preflight';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { AccessPolicyHolder } from '../policy/holder';
import { PendingSweep } from '../queue/pending-sweep';
import type { ReconcileProducer } from '../queue/producer';
import { ResyncQueue } from '../queue/resync-queue';
import { startResyncWorker } from '../queue/resync-worker';
import { startReconcileWorker } from '../queue/worker';
import { tokenUserIdOf } from '../reconcile/adoption';
import { GroupReconciler } from '../reconcile/group-reconciler';
import { OrgDirectory } from '../reconcile/org-directory';
import type { PlanContext } from '../reconcile/plan';
import { UserReconciler } from '../reconcile/user-reconciler';
import { AccessPolicyStatusRecord } from '../store/access-policy-status';
import { ClaimIndex } from '../store/claims';
import { PendingChanges } from '../store/pending-changes';
import type { RedisConnections } from '../store/redis';
import type { RedisStore } from '../store/redis-store';
import { watchFiles } from './file-watch';
import { checkOnDemand, idpSyncChecker } from './idp-sync-check';
import { PolicyReloader, type ReloadTrigger } from './policy-reload';

/**
 * The reconcile side of a bridge (`worker` and `all`): waits for the Coder preflight, however long Coder takes
 * to answer, then starts the reconcile and resync workers and the pending sweep. Until then jobs wait in the
 * queue: none is taken, so none fails or runs out of attempts.
 */

/** How often ACCESS_POLICY_FILE is stat()ed: a ConfigMap update applies within this (plus the kubelet's own delay). */
export const POLICY_POLL_MS = 5_000;
/** A refusal because of Coder's IdP sync re-reads its settings at most this often. */
const IDP_SYNC_RECHECK_MS = 10_000;

export interface WorkerRuntimeDeps {
  config: Config;
  redis: RedisConnections;
  store: RedisStore;
  producer: ReconcileProducer;
  coder: CoderClient;
  /** For the preflight only: no retries of its own, so one failed attempt is one log line. */
  preflightCoder: CoderClient;
  coderHealth: CoderHealth;
  metrics: Metrics;
  logger: Logger;
}

export interface WorkerRuntime {
  preflightDone(): boolean;
  /** The access policy the reconcilers apply; undefined until the preflight is done. */
  accessPolicy(): AccessPolicyHolder | undefined;
  /** Re-reads ACCESS_POLICY_FILE (SIGHUP); resolves once the reload is done. */
  reloadPolicy(trigger: ReloadTrigger): Promise<void>;
  close(): Promise<void>;
}

export function startWorkerRuntime(deps: WorkerRuntimeDeps): WorkerRuntime {
  const { config, logger } = deps;
  const prefix = config.redis.prefix;
  const abort = new AbortController();
  const closers: (() => Promise<unknown>)[] = [];
  let done = false;
  let policy: AccessPolicyHolder | undefined;
  let reloader: PolicyReloader | undefined;
  let idpSyncCheck: Promise<void> | undefined;
  let idpSyncRecheck: Promise<void> | undefined;

  const start = async (): Promise<void> => {
    const { organization, groupsLicensed } = await coderPreflight({
      coder: deps.preflightCoder,
      organization: config.coder.organization,
      logger,
      signal: abort.signal,
      onFailure: (err) => deps.coderHealth.failed(err),
    });
    if (abort.signal.aborted) return;
    const ctx: PlanContext = { deletePolicy: config.userDeletePolicy, loginType: config.coder.loginType, orgId: organization.id };
    const adoption = { tokenUserId: tokenUserIdOf(deps.coder), groups: config.adoptGroups };
    policy = new AccessPolicyHolder(config.accessPolicy?.policy, organization.name);
    const access = { policy, orgs: new OrgDirectory(deps.coder, organization) };
    const policyStatus = new AccessPolicyStatusRecord(deps.redis.store, prefix);
    const checkIdpSync = idpSyncChecker({ coder: deps.coder, policy, orgs: access.orgs, status: policyStatus, metrics: deps.metrics, logger });
    const recheckIdpSync = checkOnDemand(checkIdpSync, IDP_SYNC_RECHECK_MS);
    const reconcileDeps = { store: deps.store, claims: new ClaimIndex(deps.redis.queue, prefix), queue: deps.producer, coder: deps.coder, ctx, adoption, access };
    const worker = startReconcileWorker({
      connection: deps.redis.queue,
      prefix,
      concurrency: config.workerConcurrency,
      lockDurationMs: config.workerLockMs,
      reconcilers: { user: new UserReconciler(reconcileDeps), group: new GroupReconciler({ ...reconcileDeps, groupsLicensed }) },
      logger,
      metrics: deps.metrics,
      onCoderAuthFailure: (err) => deps.coderHealth.failed(err),
      // The warning shows beside the failure, not only after the next resync.
      onPermanentFailure: (error) => {
        if (error.code === 'idp_sync') idpSyncRecheck = recheckIdpSync();
      },
    });
    closers.push(() => worker.close());
    const resyncWorker = await startResyncWorker({
      connection: deps.redis.queue,
      prefix,
      resync: { store: deps.store, coder: deps.coder, producer: deps.producer, plan: ctx, policy: { coder: deps.coder, store: deps.store, adoption, access, baseOrgId: organization.id } },
      metrics: deps.metrics,
      logger,
      beforeRun: checkIdpSync,
    });
    closers.push(() => resyncWorker.close());
    const resyncQueue = new ResyncQueue(deps.redis.queue, prefix, logger);
    closers.push(() => resyncQueue.close());
    await resyncQueue.schedulePeriodic(config.resyncIntervalMs);

    // Once per process start, every pending mark (marks left by a version without the change index included);
    // from then on the sweep reads only the changes since it last ran.
    const pending = await deps.store.pending();
    await deps.producer.enqueueMany(pending.map(({ kind, id }) => ({ kind, id })));
    if (pending.length > 0) logger.info({ event: 'pending_requeued', count: pending.length }, 're-queued pending resources at start');
    const sweep = new PendingSweep({ changes: new PendingChanges(deps.redis.store, prefix), redis: deps.redis.store, prefix, producer: deps.producer, logger });
    sweep.start();
    closers.push(async () => sweep.stop());

    if (config.accessPolicy) {
      const file = config.accessPolicy.file;
      reloader = new PolicyReloader({ file, holder: policy, store: deps.store, producer: deps.producer, status: policyStatus, metrics: deps.metrics, logger, onChange: checkIdpSync });
      await reloader.reload('start');
      const stopWatching = watchFiles({ files: [file], onChange: () => reloader?.reload('file'), intervalMs: POLICY_POLL_MS });
      closers.push(async () => {
        stopWatching();
        reloader?.close();
      });
    } else {
      await policyStatus.unloaded();
    }
    // Coder's answers about its IdP sync settings are not waited for: a stop meanwhile must not wait on them while
    // the worker keeps taking jobs (close awaits the check only once the workers are stopped).
    idpSyncCheck = checkIdpSync();

    done = true;
    logger.info(
      { event: 'worker_started', organization: organization.name, concurrency: config.workerConcurrency, groupsLicensed, deletePolicy: config.userDeletePolicy },
      'reconcile worker started',
    );
  };

  const started = start().catch((err: unknown) => {
    if (abort.signal.aborted) return;
    logger.error({ event: 'worker_start_failed', err }, 'the reconcile worker could not start');
  });

  return {
    preflightDone: () => done,
    accessPolicy: () => policy,
    reloadPolicy: async (trigger) => {
      if (reloader) return reloader.reload(trigger);
      const why = config.accessPolicy ? 'the worker has not started yet (it reads the file when it starts)' : 'ACCESS_POLICY_FILE is not set';
      logger.info({ event: 'access_policy_reload_skipped', trigger }, `access policy not reloaded: ${why}`);
    },
    close: async () => {
      abort.abort();
      await started;
      // Last started, first stopped: the sweep before the queue it feeds, the workers after it.
      for (const close of closers.reverse()) await close();
      await Promise.all([idpSyncCheck, idpSyncRecheck]);
    },
  };
}
