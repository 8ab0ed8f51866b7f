import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { ResourceKind } from '../model/resource';
import { PolicyError } from '../policy/errors';
import type { AccessPolicyHolder } from '../policy/holder';
import { loadPolicyFile } from '../policy/load';
import type { ReconcileRequest } from '../queue/producer';
import type { AccessPolicyStatusRecord } from '../store/access-policy-status';
import type { DesiredStore } from '../store/types';

/**
 * Applies a changed ACCESS_POLICY_FILE (ConfigMap update, SIGHUP, or a restart with another file) without a
 * restart: the file is validated whole, an invalid one is refused and the policy in use stays; a valid one that
 * says something new replaces it, and every user and group the bridge has applied is queued again. A reconcile
 * whose access did not change makes no Coder call, one whose access changed reads Coder once; only resources that
 * failed permanently (perhaps because of the old policy) are forced, since a forced run reads Coder whatever changed.
 */

/** `retry`: queueing the re-evaluation failed, and is tried again as at a start. */
export type ReloadTrigger = 'start' | 'file' | 'sighup' | 'retry';

export interface PolicyReloaderDeps {
  file: string;
  holder: AccessPolicyHolder;
  store: Pick<DesiredStore, 'syncIds' | 'permanentFailures'>;
  producer: { enqueueMany(items: ReconcileRequest[]): Promise<void> };
  status: Pick<AccessPolicyStatusRecord, 'read' | 'loaded' | 'write'>;
  metrics: Metrics;
  logger: Logger;
  /** After a new policy is in use: it may name other organizations, whose IdP sync settings matter. */
  onChange?: () => Promise<void>;
  /** Wait before queueing again when Redis refused (default REQUEUE_RETRY_MS). */
  retryMs?: number;
  now?: () => number;
}

/** addBulk of a whole deployment at once would outlast the enqueue timeout. */
const ENQUEUE_CHUNK = 500;
const REQUEUE_RETRY_MS = 5_000;

export class PolicyReloader {
  private chain: Promise<void> = Promise.resolve();
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly deps: PolicyReloaderDeps) {}

  /** Reloads run one at a time: a SIGHUP during a file-change reload waits for it. */
  reload(trigger: ReloadTrigger): Promise<void> {
    this.chain = this.chain.then(() => this.run(trigger)).catch((err: unknown) => {
      this.deps.logger.error({ event: 'access_policy_reload_error', trigger, err: (err as Error).message }, 'access policy reload failed');
      // Redis did not answer whether the policy in use was applied before: asked again, or a change goes unapplied.
      if (trigger === 'start' || trigger === 'retry') this.retryLater();
    });
    return this.chain;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
  }

  private async run(trigger: ReloadTrigger): Promise<void> {
    const { holder, file, logger, metrics, status } = this.deps;
    let changed: boolean;
    if (trigger === 'start' || trigger === 'retry') {
      // The configuration read the file at start; what a restart must re-evaluate is what differs from the
      // policy the workers applied before it.
      const before = (await status.read()).loaded?.fingerprint;
      changed = before !== holder.fingerprint();
    } else {
      try {
        changed = holder.replace(loadPolicyFile(file));
      } catch (err) {
        if (!(err instanceof PolicyError)) throw err;
        metrics.accessPolicyReloadFailures.inc();
        logger.error(
          { event: 'access_policy_reload_failed', trigger, file, problems: err.problems, fingerprint: holder.fingerprint() },
          'ACCESS_POLICY_FILE changed but is invalid: the policy in use stays',
        );
        await status.write('reloadFailure', { at: this.now(), file, problems: err.problems });
        return;
      }
    }
    const policy = holder.source();
    const rules = policy?.rules.length ?? 0;
    metrics.accessPolicyRules.set(rules);
    metrics.accessPolicyInfo.reset();
    metrics.accessPolicyInfo.set({ fingerprint: holder.fingerprint() }, 1);
    const queued = changed ? await this.requeueAll() : 0;
    const level = changed || trigger !== 'file' ? 'info' : 'debug';
    logger[level](
      { event: 'access_policy_reloaded', trigger, file, changed, rules, queued: queued ?? 'pending', fingerprint: holder.fingerprint() },
      changed ? 'access policy loaded: every applied user and group is re-evaluated' : 'access policy unchanged',
    );
    // Recorded only once the re-evaluation is queued: a restart before that queues it again.
    if (queued !== undefined) await status.loaded({ file, fingerprint: holder.fingerprint(), rules, onSuspend: policy?.onSuspend ?? 'leave', loadedAt: this.now() });
    if (changed && trigger !== 'start' && trigger !== 'retry') await this.deps.onChange?.();
  }

  /** The number queued, or undefined when Redis refused (retried until it accepts). */
  private async requeueAll(): Promise<number | undefined> {
    clearTimeout(this.retry);
    try {
      const { store } = this.deps;
      const [users, groups, failures] = await Promise.all([store.syncIds('user'), store.syncIds('group'), store.permanentFailures(Number.MAX_SAFE_INTEGER)]);
      const failed = new Set(failures.items.map(({ kind, id }) => `${kind}:${id}`));
      const request = (kind: ResourceKind) => (id: string): ReconcileRequest => (failed.has(`${kind}:${id}`) ? { kind, id, force: true } : { kind, id });
      const items = [...users.map(request('user')), ...groups.map(request('group'))];
      for (let i = 0; i < items.length; i += ENQUEUE_CHUNK) await this.deps.producer.enqueueMany(items.slice(i, i + ENQUEUE_CHUNK));
      return items.length;
    } catch (err) {
      this.deps.logger.error({ event: 'access_policy_requeue_failed', err: (err as Error).message }, 'cannot queue the re-evaluation of the new access policy: retrying');
      this.retryLater();
      return undefined;
    }
  }

  /** As at a start: the policy in use is compared with the one recorded as applied, and re-evaluated if they differ. */
  private retryLater(): void {
    if (this.closed) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.reload('retry'), this.deps.retryMs ?? REQUEUE_RETRY_MS);
    this.retry.unref();
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}
