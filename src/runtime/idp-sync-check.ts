import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { AccessPolicyHolder } from '../policy/holder';
import { ReconcileError } from '../reconcile/errors';
import { readIdpSyncOverlaps, type IdpSyncReader } from '../reconcile/idp-sync-settings';
import type { OrgDirectory } from '../reconcile/org-directory';
import type { AccessPolicyStatusRecord } from '../store/access-policy-status';

/**
 * The worker's check of Coder's own IdP sync against the access policy, at start, after a policy change and at
 * each resync: the warnings go to Redis (every replica's /admin/status), a gauge, and one log line each.
 * A failed read is logged and recorded; it fails nothing (the reconcilers report Coder's refusals themselves).
 */

export interface IdpSyncCheckDeps {
  coder: IdpSyncReader;
  policy: AccessPolicyHolder;
  orgs: Pick<OrgDirectory, 'idOf'>;
  status: Pick<AccessPolicyStatusRecord, 'read' | 'write'>;
  metrics: Metrics;
  logger: Logger;
  now?: () => number;
}

export function idpSyncChecker(deps: IdpSyncCheckDeps): () => Promise<void> {
  const { logger, metrics, status } = deps;
  const now = deps.now ?? Date.now;
  // An organization the policy names and Coder lacks has no settings; the reconcilers report it as a failure.
  const orgIdOf = (name: string) =>
    deps.orgs.idOf(name).catch((err: unknown) => {
      if (err instanceof ReconcileError && err.permanent) return undefined;
      throw err;
    });

  return async () => {
    try {
      const warnings = await readIdpSyncOverlaps(deps.coder, deps.policy.source(), deps.policy.baseOrganization, orgIdOf);
      metrics.idpSyncOverlaps.set(warnings.length);
      for (const warning of warnings) logger.warn({ event: 'idp_sync_overlap', warning }, warning);
      await status.write('idpSync', { at: now(), warnings });
    } catch (err) {
      const message = (err as Error).message;
      logger.warn({ event: 'idp_sync_check_failed', err: message }, "cannot read Coder's IdP sync settings: overlaps not checked this time");
      // The warnings of the last check that could read Coder stay: Coder's settings did not change by failing to answer.
      const previous = await status.read().then((s) => s.idpSync, () => null);
      await status.write('idpSync', { at: now(), warnings: previous?.warnings ?? [], error: message }).catch(() => undefined);
    }
  };
}

/**
 * The check on demand (a reconcile Coder refused because of its own IdP sync, turned on since the last check): at
 * most one at a time and one per `intervalMs`, so a burst of refusals costs Coder one round of reads.
 */
export function checkOnDemand(check: () => Promise<void>, intervalMs: number, now: () => number = Date.now): () => Promise<void> {
  let running: Promise<void> | undefined;
  let last = -Infinity;
  return () => {
    if (running) return running;
    if (now() - last < intervalMs) return Promise.resolve();
    last = now();
    running = check().finally(() => {
      running = undefined;
    });
    return running;
  };
}
