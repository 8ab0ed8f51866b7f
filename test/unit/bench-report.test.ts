import { evaluateTargets, formatReport, type BenchFigures, type LoadRow } from '../../bench/report';
import { percentile } from '../../bench/stats';

function loadRow(server: LoadRow['server'], operation: LoadRow['operation'], requestsPerSecond: number, failures = 0): LoadRow {
  return { server, operation, connections: 50, result: { requestsPerSecond, p50Ms: 1, p99Ms: 5, failures } };
}

function figures(overrides: Partial<BenchFigures> = {}): BenchFigures {
  return {
    load: [
      loadRow('express-ceiling', 'lookup', 10_000),
      loadRow('bridge', 'lookup', 2_600),
      loadRow('bridge', 'get', 3_100),
      loadRow('bridge', 'create', 2_100),
    ],
    patches: [
      { members: 100, p50Ms: 1, p99Ms: 4 },
      { members: 10_000, p50Ms: 1, p99Ms: 5 },
      { members: 100_000, p50Ms: 1, p99Ms: 7 },
    ],
    startupRssMiB: 100,
    rssMiB: 120,
    usersStored: 100_000,
    ...overrides,
  };
}

function verdicts(f: BenchFigures): Record<string, boolean> {
  return Object.fromEntries(evaluateTargets(f).map((t) => [t.name, t.pass]));
}

describe('bench targets', () => {
  it('passes every target when each figure is inside its limit', () => {
    expect(Object.values(verdicts(figures())).every(Boolean)).toBe(true);
  });

  it('judges throughput as a ratio to the Express ceiling at 50 connections', () => {
    const slower = figures({ load: [loadRow('express-ceiling', 'lookup', 20_000), ...figures().load.slice(1)] });
    const result = verdicts(slower);
    expect(result['bridge lookup / ceiling @50']).toBe(false);
    expect(result['bridge get / ceiling @50']).toBe(false);
    expect(result['bridge create / ceiling @50']).toBe(true);
  });

  it('misses a throughput target whose run had failed requests, however fast', () => {
    const failing = figures({ load: [...figures().load.slice(0, 3), loadRow('bridge', 'create', 9_000, 3)] });
    expect(verdicts(failing)['bridge create / ceiling @50']).toBe(false);
  });

  it('misses the PATCH growth target beyond 2x the smallest group, and the 10 ms limit separately', () => {
    const grown = figures({ patches: [{ members: 100, p50Ms: 1, p99Ms: 2 }, { members: 100_000, p50Ms: 1, p99Ms: 4.5 }] });
    expect(verdicts(grown)['member PATCH p99 @100000 vs @100']).toBe(false);
    expect(verdicts(grown)['member PATCH p99 @100000']).toBe(true);
    const slow = figures({ patches: [{ members: 100, p50Ms: 1, p99Ms: 9 }, { members: 100_000, p50Ms: 1, p99Ms: 11 }] });
    expect(verdicts(slow)['member PATCH p99 @100000 vs @100']).toBe(true);
    expect(verdicts(slow)['member PATCH p99 @100000']).toBe(false);
  });

  it('misses the memory target at 150 MiB', () => {
    expect(verdicts(figures({ rssMiB: 150 }))['bridge RSS @100000 users']).toBe(false);
  });

  it('prints a MISS line for each missed target', () => {
    const report = formatReport(figures({ rssMiB: 200 }));
    expect(report.split('\n').filter((line) => line.endsWith('MISS'))).toHaveLength(1);
  });
});

describe('percentile', () => {
  it('takes the nearest rank of the sorted samples', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
  });
});
