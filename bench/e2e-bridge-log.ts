/**
 * Reads the bridge child's pino lines as they stream: reconcile durations (the worker's own time per job,
 * Coder call included) and the 429s it met, which say where the time between the Coder calls went.
 */
export class BridgeLogTally {
  readonly reconcileMs: number[] = [];
  rateLimited = 0;
  /** Workers whose Coder preflight is done: from then on they take jobs. */
  workersStarted = 0;
  private partial = '';

  /** Feed raw output chunks; lines may be split across chunks. */
  feed = (chunk: string): void => {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('"event":"worker_started"')) this.workersStarted++;
      if (!line.includes('"event":"reconcile"')) continue;
      const entry = JSON.parse(line) as { outcome?: string; durationMs?: number };
      if (entry.outcome === 'rate_limited') this.rateLimited++;
      else if (typeof entry.durationMs === 'number') this.reconcileMs.push(entry.durationMs);
    }
  };

  meanReconcileMs(): number {
    return this.reconcileMs.length === 0 ? 0 : this.reconcileMs.reduce((sum, ms) => sum + ms, 0) / this.reconcileMs.length;
  }
}
