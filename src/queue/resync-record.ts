import type { Cluster, Redis } from 'ioredis';
import type { ResyncReport } from '../reconcile/resync';

/** The figures of a full resync worth keeping after its job is gone: the lists stay with the job. */
export interface ResyncSummary {
  checked: number;
  drifted: number;
  changed: number;
  failed: number;
  retriedFailures: number;
  unmanagedUsers: number;
  unmanagedGroups: number;
  durationMs: number;
}

export interface LastResync {
  /** Milliseconds since the epoch when the resync finished. */
  at: number;
  jobId: string;
  ok: boolean;
  result?: ResyncSummary;
  /** Why the resync itself failed (Coder or Redis unreachable...). */
  error?: string;
  /** When a full resync last finished with no failure: feeds the last_resync_success metric. */
  lastSuccessAt?: number;
}

export function summarise(report: ResyncReport): ResyncSummary {
  return {
    checked: report.checked,
    drifted: report.drifted,
    changed: report.changed,
    failed: report.failed,
    retriedFailures: report.retriedFailures,
    unmanagedUsers: report.unmanaged.userCount,
    unmanagedGroups: report.unmanaged.groupCount,
    durationMs: report.finishedAt - report.startedAt,
  };
}

/** `${prefix}:resync:last`: the outcome of the last full (not dry-run) resync, shared by every replica. */
export class LastResyncRecord {
  private readonly key: string;

  constructor(
    private readonly redis: Redis | Cluster,
    prefix: string,
  ) {
    this.key = `${prefix}:resync:last`;
  }

  async read(): Promise<LastResync | null> {
    const json = await this.redis.get(this.key);
    return json === null ? null : (JSON.parse(json) as LastResync);
  }

  /** Keeps the previous `lastSuccessAt` across a failed run. Full resyncs run one at a time, so read-then-write is safe. */
  async write(outcome: Omit<LastResync, 'lastSuccessAt'>): Promise<LastResync> {
    const previous = await this.read();
    const record: LastResync = { ...outcome, lastSuccessAt: outcome.ok ? outcome.at : previous?.lastSuccessAt };
    await this.redis.set(this.key, JSON.stringify(record));
    return record;
  }
}
