import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log';
import { groupsLicensed } from './licence';
import type { CoderClient } from './client';
import type { Organization } from './types';

/**
 * What the worker must learn from Coder before it reconciles anything: the organization it provisions into and
 * whether groups are licensed. Coder may well be down when the bridge starts (a sidecar starts before Coder in
 * its pod), so this retries with capped backoff for as long as it takes; jobs wait in the queue meanwhile.
 */

export class OrganizationNotFoundError extends Error {
  readonly code = 'organization_not_found';
}

export interface PreflightResult {
  organization: Organization;
  groupsLicensed: boolean;
}

export interface PreflightOptions {
  coder: CoderClient;
  /** CODER_ORGANIZATION: a name or id; absent: the default organization. */
  organization?: string;
  logger: Logger;
  /** Aborted when the bridge stops before Coder ever answered. */
  signal: AbortSignal;
  backoff?: { baseMs: number; capMs: number };
  /** Every failed attempt, for the health figures. */
  onFailure?: (err: unknown) => void;
}

/** 1 s, 2 s, 4 s... then one attempt (and one log line) every 30 s. */
export const PREFLIGHT_BACKOFF = { baseMs: 1_000, capMs: 30_000 };

export async function resolveOrganization(coder: CoderClient, wanted: string | undefined): Promise<Organization> {
  const organizations = await coder.organizations();
  const match = wanted
    ? organizations.find((org) => org.id === wanted || org.name.toLowerCase() === wanted.toLowerCase())
    : organizations.find((org) => org.is_default);
  if (!match) {
    const known = organizations.map((org) => org.name).join(', ') || 'none visible to this token';
    throw new OrganizationNotFoundError(
      wanted ? `CODER_ORGANIZATION "${wanted}" not found in Coder (known: ${known})` : `Coder has no default organization (known: ${known})`,
    );
  }
  return match;
}

/** Resolves once Coder answered both questions; rejects only when `signal` aborts. */
export async function coderPreflight(options: PreflightOptions): Promise<PreflightResult> {
  const { coder, logger, signal } = options;
  const backoff = options.backoff ?? PREFLIGHT_BACKOFF;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    signal.throwIfAborted();
    try {
      const organization = await resolveOrganization(coder, options.organization);
      const licensed = await groupsLicensed(coder, logger);
      if (attempt > 1) logger.info({ event: 'coder_preflight_done', attempts: attempt, waitedMs: Date.now() - started }, 'Coder answers: starting the reconcile worker');
      return { organization, groupsLicensed: licensed };
    } catch (err) {
      options.onFailure?.(err);
      const retryInMs = Math.min(backoff.capMs, backoff.baseMs * 2 ** (attempt - 1));
      logger.warn(
        { event: 'coder_preflight_failed', attempt, retryInMs, waitedMs: Date.now() - started, err: (err as Error).message ?? String(err) },
        'Coder is not usable yet: reconciles wait in the queue until it is',
      );
      await sleep(retryInMs, undefined, { signal });
    }
  }
}
