import type { LoadResult } from './load-result';
import type { PatchLatency } from './member-patch';
import type { Operation } from './workload';

/** The acceptance targets, and the table that shows every figure against them. Pure: no I/O. */

export type ServerName = 'express-ceiling' | 'scimmy-map' | 'bridge';

export interface LoadRow {
  server: ServerName;
  operation: Operation;
  connections: number;
  result: LoadResult;
}

export interface BenchFigures {
  load: LoadRow[];
  patches: PatchLatency[];
  /** Resident memory right after start-up, before any load, with the first seeded users stored. */
  startupRssMiB: number;
  rssMiB: number;
  usersStored: number;
}

export interface TargetOutcome {
  name: string;
  measured: string;
  wanted: string;
  pass: boolean;
}

/** Throughput of the bridge at 50 connections, as a fraction of the Express ceiling, per operation. */
export const THROUGHPUT_TARGETS: Record<Operation, number> = { lookup: 0.25, get: 0.3, create: 0.1 };
export const TARGET_CONNECTIONS = 50;
export const PATCH_P99_LIMIT_MS = 10;
export const PATCH_GROWTH_LIMIT = 2;
export const RSS_LIMIT_MIB = 150;

function row(figures: BenchFigures, server: ServerName, operation: Operation, connections: number): LoadRow | undefined {
  return figures.load.find((r) => r.server === server && r.operation === operation && r.connections === connections);
}

/** The ceiling: bare Express's fixed ListResponse (the lookup request) at 50 connections. */
export function ceiling(figures: BenchFigures): number {
  return row(figures, 'express-ceiling', 'lookup', TARGET_CONNECTIONS)?.result.requestsPerSecond ?? Number.NaN;
}

export function evaluateTargets(figures: BenchFigures): TargetOutcome[] {
  const top = ceiling(figures);
  const outcomes: TargetOutcome[] = (Object.keys(THROUGHPUT_TARGETS) as Operation[]).map((operation) => {
    const bridge = row(figures, 'bridge', operation, TARGET_CONNECTIONS);
    const ratio = bridge ? bridge.result.requestsPerSecond / top : Number.NaN;
    const clean = bridge !== undefined && bridge.result.failures === 0;
    return {
      name: `bridge ${operation} / ceiling @${TARGET_CONNECTIONS}`,
      measured: `${ratio.toFixed(3)}${clean ? '' : ' (with failures)'}`,
      wanted: `>= ${THROUGHPUT_TARGETS[operation]}`,
      pass: clean && ratio >= THROUGHPUT_TARGETS[operation],
    };
  });
  const smallest = figures.patches.reduce<PatchLatency | undefined>((a, b) => (!a || b.members < a.members ? b : a), undefined);
  const largest = figures.patches.reduce<PatchLatency | undefined>((a, b) => (!a || b.members > a.members ? b : a), undefined);
  if (smallest && largest) {
    outcomes.push({
      name: `member PATCH p99 @${largest.members} vs @${smallest.members}`,
      measured: `${(largest.p99Ms / smallest.p99Ms).toFixed(2)}x`,
      wanted: `<= ${PATCH_GROWTH_LIMIT}x`,
      pass: largest.p99Ms <= PATCH_GROWTH_LIMIT * smallest.p99Ms,
    });
    outcomes.push({
      name: `member PATCH p99 @${largest.members}`,
      measured: `${largest.p99Ms.toFixed(2)} ms`,
      wanted: `< ${PATCH_P99_LIMIT_MS} ms`,
      pass: largest.p99Ms < PATCH_P99_LIMIT_MS,
    });
  }
  outcomes.push({
    name: `bridge RSS @${figures.usersStored} users`,
    measured: `${figures.rssMiB.toFixed(1)} MiB`,
    wanted: `< ${RSS_LIMIT_MIB} MiB`,
    pass: figures.rssMiB < RSS_LIMIT_MIB,
  });
  return outcomes;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

/** autocannon records whole milliseconds: 0 means under one. */
function latency(ms: number): string {
  return ms === 0 ? '<1' : ms.toFixed(0);
}

export function formatReport(figures: BenchFigures): string {
  const top = ceiling(figures);
  const load = table(
    ['server', 'operation', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'failures', 'x ceiling'],
    figures.load.map(({ server, operation, connections, result }) => [
      server,
      operation,
      String(connections),
      result.requestsPerSecond.toFixed(0),
      latency(result.p50Ms),
      latency(result.p99Ms),
      String(result.failures),
      (result.requestsPerSecond / top).toFixed(3),
    ]),
  );
  const patches = table(
    ['group members', 'PATCH p50 ms', 'PATCH p99 ms'],
    figures.patches.map((p) => [String(p.members), p.p50Ms.toFixed(2), p.p99Ms.toFixed(2)]),
  );
  const targets = table(
    ['target', 'measured', 'wanted', 'result'],
    evaluateTargets(figures).map((t) => [t.name, t.measured, t.wanted, t.pass ? 'PASS' : 'MISS']),
  );
  return [
    `Throughput (ceiling = express-ceiling lookup @${TARGET_CONNECTIONS} = ${top.toFixed(0)} req/s)`,
    ...load,
    '',
    'Bridge one-member group PATCH, sequential',
    ...patches,
    '',
    `Bridge resident memory: ${figures.rssMiB.toFixed(1)} MiB with ${figures.usersStored} users stored, after all load (${figures.startupRssMiB.toFixed(1)} MiB at start-up)`,
    '',
    'Targets',
    ...targets,
  ].join('\n');
}
