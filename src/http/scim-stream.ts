import type { Response } from 'express';
import type { GroupParts } from './resource-views';
import { SCIM_CONTENT_TYPE } from './scim-response';
import { LIST_RESPONSE_SCHEMA } from '../scim/urns';

/**
 * A SCIM response written in pieces, each sent when the socket has taken the previous ones: a response
 * with 100,000 members is never one string, and a slow reader holds back the writer rather than memory.
 */
export class ScimStream {
  /** Pieces are gathered up to this size before they go to the socket: one chunk per member is too many. */
  private static readonly FLUSH_AT = 64 * 1024;
  private pending: string[] = [];
  private pendingLength = 0;

  constructor(private readonly res: Response) {}

  start(status: number, etag?: string): void {
    this.res.status(status).set('Content-Type', SCIM_CONTENT_TYPE);
    if (etag) this.res.set('ETag', etag);
  }

  async write(text: string): Promise<void> {
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength < ScimStream.FLUSH_AT) return;
    const flushed = this.res.write(this.take());
    if (!flushed && !this.closed) await this.drained();
  }

  /** The client went away: the writer stops reading what nobody will receive. */
  get closed(): boolean {
    return this.res.destroyed;
  }

  end(): void {
    this.res.end(this.take());
  }

  /** Resolves on 'drain' or 'close', whichever comes first, leaving no listener behind. */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  private take(): string {
    const text = this.pending.join('');
    this.pending = [];
    this.pendingLength = 0;
    return text;
  }
}

/** One group: its attributes, its members chunk by chunk, then `meta` (the key order of an in-memory render). */
export async function writeGroup(stream: ScimStream, { head, members }: GroupParts): Promise<void> {
  const { meta, ...rest } = head;
  const open = JSON.stringify(rest);
  await stream.write(open.slice(0, -1));
  let separator = open === '{}' ? '' : ',';
  if (members) {
    let written = 0;
    for await (const chunk of members.chunks) {
      if (stream.closed) return;
      if (chunk.length === 0) continue;
      await stream.write(`${written === 0 ? `${separator}"members":[` : ','}${chunk.map((m) => JSON.stringify(m)).join(',')}`);
      written += chunk.length;
    }
    if (written > 0) await stream.write(']');
    else if (members.count === 0) await stream.write(`${separator}"members":[]`);
    if (written > 0 || members.count === 0) separator = ',';
  }
  await stream.write(meta === undefined ? '}' : `${separator}"meta":${JSON.stringify(meta)}}`);
}

/** `GET /Groups/:id` and the group a write returns. */
export async function sendGroup(res: Response, status: number, parts: GroupParts): Promise<void> {
  const version = (parts.head.meta as { version?: unknown } | undefined)?.version;
  const stream = new ScimStream(res);
  stream.start(status, typeof version === 'string' ? version : undefined);
  await writeGroup(stream, parts);
  stream.end();
}

export interface ListHead {
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
}

/** A ListResponse of groups, each written as it is read. */
export async function sendGroupList(res: Response, head: ListHead, groups: (() => Promise<GroupParts>)[]): Promise<void> {
  const stream = new ScimStream(res);
  stream.start(200);
  const { totalResults, startIndex, itemsPerPage } = head;
  await stream.write(JSON.stringify({ schemas: [LIST_RESPONSE_SCHEMA], totalResults, startIndex, itemsPerPage }).slice(0, -1) + ',"Resources":[');
  for (let i = 0; i < groups.length && !stream.closed; i++) {
    if (i > 0) await stream.write(',');
    await writeGroup(stream, await groups[i]());
  }
  await stream.write(']}');
  stream.end();
}
