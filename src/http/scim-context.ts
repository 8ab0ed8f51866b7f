import type { Request, Response } from 'express';
import type { Config } from '../config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { DesiredStore } from '../store/types';
import type { ResourceKind } from '../model/resource';
import type { ScanGate } from './scan-gate';

/** Queues "reconcile this resource": the producer of src/queue/producer.ts, or anything shaped like it. */
export interface ReconcileEnqueuer {
  enqueue(kind: ResourceKind, id: string): Promise<unknown>;
}

/** What the SCIM routes need from the process. */
export interface ScimContext {
  config: Config;
  store: DesiredStore;
  producer: ReconcileEnqueuer;
  logger: Logger;
  metrics?: Metrics;
  /** Bounds unindexed filter scans per token (scimRouter makes one per app). */
  scans?: ScanGate;
}

/** The SCIM base URL as this request reached it (`https://host/scim/v2`), for `meta.location` and `Location`. */
export function scimBaseUrl(res: Response): string {
  return res.locals.scimBaseUrl as string;
}

/** The `:id` route parameter (Express 5 types every parameter as possibly repeated). */
export function idParam(req: Request): string {
  const id = req.params.id;
  return Array.isArray(id) ? id.join('/') : id;
}
