import type { Queue } from 'bullmq';
import express, { type ErrorRequestHandler, type Router } from 'express';
import { z } from 'zod';
import type { CoderHealthSnapshot } from '../model/sync';
import type { Logger } from '../log';
import type { LastResyncRecord } from '../queue/resync-record';
import type { ResyncQueue } from '../queue/resync-queue';
import { findPermanentFailures } from '../store/failures';
import { kindOfType, parseResourceRef, type ResourceRef } from '../model/resource-ref';
import { StoreError, type DesiredStore } from '../store/types';
import { type StoredResource } from '../model/resource';
import { errorMessage } from '../log-errors';
import type { AccessPolicyStatus, AccessPolicyStatusRecord } from '../store/access-policy-status';

/**
 * The admin API, mounted at /admin behind the admin token: start and follow resyncs, see the queue and the
 * failures, and look at one resource's desired state next to what was applied to Coder. Answers are JSON;
 * errors raised here are `{error, message}` with `error` a stable code (a request the app refuses before it
 * reaches this router, such as a body that is not JSON, gets the app's SCIM error).
 */

export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly code: 'invalid_request' | 'not_found' | 'unavailable' | 'internal',
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

export interface AdminDeps {
  store: DesiredStore;
  resyncQueue: Pick<ResyncQueue, 'request' | 'view'>;
  reconcileQueue: Pick<Queue, 'getJobCounts'>;
  lastResync: Pick<LastResyncRecord, 'read'>;
  /** This process's view of Coder: reachable, and accepting the bridge token. */
  coder?: () => Promise<CoderHealthSnapshot>;
  logger?: Logger;
  /** What the workers recorded of the access policy and Coder's IdP sync settings. */
  accessPolicy?: Pick<AccessPolicyStatusRecord, 'read'>;
  /** Failures listed by GET /status (all are counted). */
  failureListLimit?: number;
}

const resyncBody = z
  .object({
    dryRun: z.boolean({ message: 'dryRun must be true or false' }).optional(),
    resource: z
      .string({ message: 'resource must be a string' })
      .refine((text) => parseResourceRef(text) !== undefined, { message: 'resource must be "Users/<id>" or "Groups/<id>"' })
      .optional(),
  })
  .strict();

function parseResyncBody(body: unknown): { dryRun: boolean; resource?: string } {
  const parsed = resyncBody.safeParse(body ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')} (accepted: dryRun, resource)` : issue.message,
    );
    throw new AdminError(400, 'invalid_request', problems.join('; '));
  }
  return { dryRun: parsed.data.dryRun ?? false, ...(parsed.data.resource === undefined ? {} : { resource: parsed.data.resource }) };
}

async function loadDesired(store: DesiredStore, ref: ResourceRef): Promise<StoredResource | null> {
  return ref.kind === 'user' ? store.getUser(ref.id) : store.getGroup(ref.id);
}

async function isKnown(store: DesiredStore, ref: ResourceRef): Promise<boolean> {
  const [desired, sync] = await Promise.all([loadDesired(store, ref), store.getSync(ref.kind, ref.id)]);
  return desired !== null || sync !== null;
}

export function createAdminRouter(deps: AdminDeps): Router {
  const { store, resyncQueue, reconcileQueue, lastResync } = deps;
  // The app parses the body before this router (http/app.ts), as for SCIM: a body it refuses is answered there.
  const router = express.Router();

  router.post('/resync', async (req, res) => {
    const request = parseResyncBody(req.body);
    const ref = request.resource === undefined ? undefined : parseResourceRef(request.resource);
    if (ref && !(await isKnown(store, ref))) throw new AdminError(404, 'not_found', `${request.resource} is not managed by the bridge`);
    const { id } = await resyncQueue.request(request);
    deps.logger?.info({ event: 'resync_requested', jobId: id, ...request }, 'resync requested');
    res.status(202).location(`${req.baseUrl}/resync/${encodeURIComponent(id)}`).json({ id });
  });

  router.get('/resync/:id', async (req, res) => {
    const view = await resyncQueue.view(req.params.id);
    if (!view) throw new AdminError(404, 'not_found', `no resync job ${req.params.id} (finished jobs are kept for the last 50 runs)`);
    res.json(view);
  });

  router.get('/status', async (_req, res) => {
    const [counts, last, managed, failures, coder, accessPolicy] = await Promise.all([
      reconcileQueue.getJobCounts('waiting', 'active', 'delayed', 'failed'),
      lastResync.read(),
      store.counts(),
      findPermanentFailures(store, deps.failureListLimit ?? 100),
      deps.coder?.(),
      deps.accessPolicy?.read(),
    ]);
    res.json({
      queue: { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0, failed: counts.failed ?? 0 },
      lastResync: last,
      managed,
      failureCounts: { users: failures.counts.user, groups: failures.counts.group },
      failures: failures.failures,
      ...(coder ? { coder: coderStatus(coder) } : {}),
      ...(accessPolicy ? { accessPolicy: accessPolicyStatus(accessPolicy) } : {}),
    });
  });

  router.get('/resources/:type/:id', async (req, res) => {
    const kind = kindOfType(req.params.type);
    if (!kind) throw new AdminError(404, 'not_found', `unknown resource type "${req.params.type}" (Users or Groups)`);
    const ref: ResourceRef = { kind, id: req.params.id };
    const [desired, sync, pending, memberIds] = await Promise.all([
      loadDesired(store, ref),
      store.getSync(kind, ref.id),
      store.pending(),
      kind === 'group' ? store.memberIds(ref.id) : Promise.resolve(undefined),
    ]);
    if (!desired && !sync) throw new AdminError(404, 'not_found', `${req.params.type}/${ref.id} is neither stored nor in Coder`);
    const mark = pending.find((p) => p.kind === kind && p.id === ref.id);
    res.json({
      type: req.params.type,
      id: ref.id,
      desired: desired ? { version: desired.version, lastModified: desired.lastModified, doc: desired.doc, ...(memberIds ? { memberIds } : {}) } : null,
      sync: sync
        ? {
            applied: sync.applied ?? null,
            appliedVersion: sync.appliedVersion ?? null,
            lastSuccessAt: sync.lastSuccessAt ?? null,
            lastError: sync.lastError ?? null,
            notes: sync.notes ?? [],
            deleted: sync.deleted ?? false,
          }
        : null,
      pending: mark ? { version: mark.version } : null,
    });
  });

  router.use(adminErrorHandler(deps.logger));
  return router;
}

function coderStatus(health: CoderHealthSnapshot): Record<string, unknown> {
  return {
    up: health.up ?? null,
    coder_auth_failing: health.authFailing,
    lastAnswerAt: health.lastAnswerAt ?? null,
    lastError: health.lastError ?? null,
  };
}

/** `file: null`: the workers apply no policy (they still check Coder's group sync against the groups they manage). */
function accessPolicyStatus({ loaded, reloadFailure, idpSync }: AccessPolicyStatus): Record<string, unknown> {
  return {
    file: loaded?.file ?? null,
    rules: loaded?.rules ?? 0,
    onSuspend: loaded?.onSuspend ?? null,
    fingerprint: loaded?.fingerprint ?? null,
    loadedAt: loaded?.loadedAt ?? null,
    reloadFailure,
    warnings: idpSync?.warnings ?? [],
    lastCheckedAt: idpSync?.at ?? null,
    lastCheckError: idpSync?.error ?? null,
  };
}

function adminErrorHandler(logger?: Logger): ErrorRequestHandler {
  return (err: unknown, _req, res, _next) => {
    let error: AdminError;
    if (err instanceof AdminError) error = err;
    else if (err instanceof StoreError && err.code === 'unavailable') error = new AdminError(503, 'unavailable', 'Redis is unavailable; retry shortly');
    else {
      logger?.error({ event: 'admin_error', err: errorMessage(err) }, 'admin request failed');
      error = new AdminError(500, 'internal', 'internal error; see the bridge logs');
    }
    res.status(error.status).json({ error: error.code, message: error.message });
  };
}
