import type { Request } from 'express';

/** A host name or bracketed IPv6 address, with an optional port: nothing that could reshape a URL. */
const PLAIN_HOST = /^(?:[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,126}|\[[0-9a-f:.]{2,45}\])(?::\d{1,5})?$/i;

/**
 * The origin this request reached the bridge at, for `Location` and `meta.location`, never taken from what the
 * client alone says:
 * 1. PUBLIC_URL when set (it may carry a path prefix the ingress strips);
 * 2. else the scheme and host a trusted proxy passed on (X-Forwarded-Proto/-Host, or the Host it forwarded),
 *    when the request came through one (TRUST_PROXY);
 * 3. else the address the request arrived at: a `Host: evil.example` sent straight to the bridge is ignored.
 */
export function publicOrigin(req: Request, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl;
  const trusted = req.app.get('trust proxy fn') as (address: string | undefined, hop: number) => boolean;
  const host: unknown = req.host;
  if (trusted(req.socket.remoteAddress, 0) && typeof host === 'string' && PLAIN_HOST.test(host)) {
    return `${req.protocol === 'https' ? 'https' : 'http'}://${host}`;
  }
  return listenerOrigin(req);
}

function listenerOrigin(req: Request): string {
  const scheme = 'encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http';
  const local = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const host = local.includes(':') ? `[${local}]` : local;
  return `${scheme}://${host}:${req.socket.localPort}`;
}
