/** One autocannon run's figures, as the report prints them. */
export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses outside 2xx, plus connection errors and timeouts: a run with any is not a clean figure. */
  failures: number;
}

export interface LoadJob {
  type: 'run';
  origin: string;
  operation: 'lookup' | 'get' | 'create';
  connections: number;
  durationSeconds: number;
  /** Seeded userNames to look up, in rotation. */
  userNames: string[];
  /** Seeded ids to get, in rotation. */
  ids: string[];
  /** Makes created userNames unique across runs and servers. */
  tag: string;
}
