import type { Response } from 'express';

/** RFC 7644 §3.1: SCIM responses carry this media type (Entra checks it; Okta accepts anything). */
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

export function sendScim(res: Response, status: number, body: unknown): void {
  res.status(status).set('Content-Type', SCIM_CONTENT_TYPE).send(JSON.stringify(body));
}

/** `ETag` mirrors meta.version so clients may use either (RFC 7644 §3.14). */
export function sendScimResource(res: Response, status: number, resource: Record<string, unknown>): void {
  const meta = resource.meta as { version?: unknown } | undefined;
  if (typeof meta?.version === 'string') res.set('ETag', meta.version);
  sendScim(res, status, resource);
}
