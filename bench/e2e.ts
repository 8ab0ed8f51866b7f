import { startE2E, type E2E } from '../test/e2e/harness';
import { spawnBridge, spawnServeAndWorkers } from '../test/e2e/bridge-process';
import { BridgeLogTally } from './e2e-bridge-log';
import { checkExact, watchConvergence } from './e2e-converge';
import { fewestCoderCalls, MEMBER_BATCH, pushOktaStyle, type Population } from './e2e-push';

/**
 * npm run bench:e2e -- issue 3's benchmark. The bridge runs as a child process (its own core: the load
 * generator, the simulator and the watcher share this one), with WORKER_CONCURRENCY=8, against the Coder
 * simulator at 20 ms per call.
 *   1. 10,000 users and 100 groups of 200 members pushed Okta-style, no rate limit: time to converge vs the
 *      lower bound (fewest Coder calls x 20 ms / concurrency), Coder calls per SCIM change.
 *   2. 1,000 users and 10 groups of 200 under Coder's default limit of 512 requests a minute per path:
 *      converged, nothing abandoned, and user creates (one path) at >= 90% of the limit.
 *   3. The same limit with one `serve` and two `worker` processes on one Redis, 1,000 users: no 429 at all (the
 *      workers share one budget), and user creates at >= 90% of the limit, the initial burst included.
 *   4. 200 users pushed into an idle bridge under that limit: Coder holds them all within 1.5x of
 *      200 x 20 ms / WORKER_CONCURRENCY (after idle a whole window's budget may go at once, as Coder allows).
 * BENCH_SCALE (default 1) scales the populations down for a quick try; BENCH_PHASES (default 1,2,3,4) picks phases.
 */

const LATENCY_MS = 20;
const CONCURRENCY = 8;
const PUSH_CONNECTIONS = 8;
const CODER_RATE_LIMIT = 512;
const TARGET_CALLS_PER_CHANGE = 1.1;
const TARGET_LOWER_BOUND_RATIO = 1.3;
const TARGET_LIMIT_SHARE = 0.9;
const TARGET_IDLE_BURST_RATIO = 1.5;
const REPLICA_WORKERS = 2;
const WORKER_START_TIMEOUT_MS = 60_000;
const scale = Number(process.env.BENCH_SCALE ?? '1');
const phases = new Set((process.env.BENCH_PHASES ?? '1,2,3,4').split(',').map((p) => p.trim()));

interface PhaseFigures {
  population: Population;
  /** Epoch ms of the first push. */
  startedAt: number;
  scimWrites: number;
  pushMs: number;
  convergeMs: number;
  coderCalls: number;
  coderWrites: number;
  calls: Record<string, number>;
  firstUserAt: number;
  lastUserAt: number;
  rateLimitedEvents: number;
  /** 429s the simulator sent, whoever met them. */
  rateLimitedCalls: number;
  reconciles: number;
  meanReconcileMs: number;
  abandoned: number;
  problems: string[];
}

/** `workers`: 0 runs one `all` process; more run one `serve` and that many `worker` processes. */
async function runPhase(population: Population, rateLimitPerMinute: number, timeoutMs: number, workers = 0): Promise<PhaseFigures> {
  const log = new BridgeLogTally();
  const e2e: E2E = await startE2E({
    sim: { latencyMs: LATENCY_MS, rateLimitPerMinute },
    env: { WORKER_CONCURRENCY: String(CONCURRENCY), LOG_LEVEL: 'info' },
    launch: (env) => (workers > 0 ? spawnServeAndWorkers(env, workers, log.feed) : spawnBridge(env, log.feed)),
  });
  try {
    // A worker listens at once and takes jobs once its Coder preflight is done: measure from there.
    const preflightStarted = Date.now();
    while (log.workersStarted < Math.max(1, workers)) {
      if (Date.now() - preflightStarted > WORKER_START_TIMEOUT_MS) throw new Error(`workers not started within ${WORKER_START_TIMEOUT_MS} ms`);
      await new Promise((done) => setTimeout(done, 50));
    }
    e2e.sim.resetCalls();
    const started = Date.now();
    const pushing = pushOktaStyle(e2e, population, PUSH_CONNECTIONS).then((result) => ({ ...result, finishedAt: Date.now() }));
    const milestones = await watchConvergence(e2e, population, timeoutMs, pushing);
    const pushed = await pushing;
    const calls = e2e.sim.calls();
    const status = await e2e.admin('GET', '/status');
    const abandoned = status.body.queue.failed + status.body.failureCounts.users + status.body.failureCounts.groups;
    return {
      population,
      startedAt: started,
      scimWrites: pushed.scimWrites,
      pushMs: pushed.finishedAt - started,
      convergeMs: milestones.convergedAt - started,
      coderCalls: Object.values(calls).reduce((sum, n) => sum + n, 0),
      coderWrites: e2e.sim.writeCalls(),
      calls,
      firstUserAt: milestones.firstUserAt,
      lastUserAt: milestones.lastUserAt,
      rateLimitedEvents: log.rateLimited,
      rateLimitedCalls: e2e.sim.rateLimitedCalls(),
      reconciles: log.reconcileMs.length,
      meanReconcileMs: log.meanReconcileMs(),
      abandoned,
      problems: await checkExact(e2e, population),
    };
  } finally {
    await e2e.close();
  }
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function describe(label: string, figures: PhaseFigures): string[] {
  const { population } = figures;
  const perChange = figures.coderCalls / figures.scimWrites;
  const busiest = Object.entries(figures.calls).sort(([, a], [, b]) => b - a).slice(0, 4).map(([route, n]) => `${route} ${n}`).join(', ');
  return [
    `${label}: ${population.users} users, ${population.groups} groups x ${population.membersPerGroup} members (PATCH add in batches of ${MEMBER_BATCH})`,
    `  SCIM changes pushed      ${figures.scimWrites} in ${seconds(figures.pushMs)} (${PUSH_CONNECTIONS} connections)`,
    `  converged                ${seconds(figures.convergeMs)} after the first push`,
    `  Coder calls              ${figures.coderCalls} (${figures.coderWrites} writes); busiest: ${busiest}`,
    `  Coder calls per change   ${perChange.toFixed(3)} (writes only: ${(figures.coderWrites / figures.scimWrites).toFixed(3)})`,
    `  reconciles               ${figures.reconciles}, ${figures.meanReconcileMs.toFixed(1)} ms each on average (Coder call included)`,
    `  429s sent by Coder       ${figures.rateLimitedCalls} (reconciles that met one: ${figures.rateLimitedEvents}); abandoned ${figures.abandoned}`,
    `  exact final state        ${figures.problems.length === 0 ? 'yes' : figures.problems.join('; ')}`,
  ];
}

async function main(): Promise<void> {
  const population = (users: number, groups: number): Population => {
    const scaledUsers = Math.max(1, Math.round(users * scale));
    return { users: scaledUsers, groups: Math.max(1, Math.round(groups * scale)), membersPerGroup: Math.min(200, scaledUsers) };
  };
  const big = population(10_000, 100);
  const limited = population(1_000, 10);

  if (phases.has('1')) await phase1(big);
  if (phases.has('2')) await phase2(limited);
  if (phases.has('3')) await phase3();
  if (phases.has('4')) await phase4();
}

const usersOnly = (users: number): Population => ({ users: Math.max(1, Math.round(users * scale)), groups: 0, membersPerGroup: 0 });

async function phase1(big: Population): Promise<void> {
  const first = await runPhase(big, 0, 600_000);
  const lowerBoundMs = (fewestCoderCalls(big) * LATENCY_MS) / CONCURRENCY;
  const perChange = first.coderCalls / first.scimWrites;
  const ratio = first.convergeMs / lowerBoundMs;
  const lines = describe('Phase 1, no rate limit', first);
  lines.push(
    `  lower bound              ${fewestCoderCalls(big)} calls x ${LATENCY_MS} ms / ${CONCURRENCY} = ${seconds(lowerBoundMs)}; converged at ${ratio.toFixed(2)}x`,
    `  target calls per change <= ${TARGET_CALLS_PER_CHANGE}: ${verdict(perChange <= TARGET_CALLS_PER_CHANGE)}`,
    `  target convergence <= ${TARGET_LOWER_BOUND_RATIO}x lower bound: ${verdict(ratio <= TARGET_LOWER_BOUND_RATIO)}`,
    `  target exact: ${verdict(first.problems.length === 0)}`,
  );
  console.log(lines.join('\n'));
}

async function phase2(limited: Population): Promise<void> {
  const second = await runPhase(limited, CODER_RATE_LIMIT, 900_000);
  const phase2 = describe(`Phase 2, Coder rate limit ${CODER_RATE_LIMIT}/min per path`, second);
  const perMinute = userCreatesPerMinute(second);
  phase2.push(
    createRateLine(second),
    `  target converged and exact: ${verdict(second.problems.length === 0)}; nothing abandoned: ${verdict(second.abandoned === 0)}`,
    `  target throughput >= ${TARGET_LIMIT_SHARE * 100}% of the limit: ${verdict(perMinute >= TARGET_LIMIT_SHARE * CODER_RATE_LIMIT)}`,
  );
  console.log(phase2.join('\n'));
}

async function phase3(): Promise<void> {
  const third = await runPhase(usersOnly(1_000), CODER_RATE_LIMIT, 900_000, REPLICA_WORKERS);
  const replicaRate = userCreatesPerMinute(third);
  const phase3 = describe(`Phase 3, one serve and ${REPLICA_WORKERS} worker processes, Coder rate limit ${CODER_RATE_LIMIT}/min per path`, third);
  phase3.push(
    createRateLine(third),
    `  target no 429: ${verdict(third.rateLimitedCalls === 0)}; converged and exact: ${verdict(third.problems.length === 0)}`,
    `  target user creates >= ${TARGET_LIMIT_SHARE * 100}% of the limit, initial burst included: ${verdict(replicaRate >= TARGET_LIMIT_SHARE * CODER_RATE_LIMIT)}`,
  );
  console.log(phase3.join('\n'));
}

async function phase4(): Promise<void> {
  const idle = usersOnly(200);
  const fourth = await runPhase(idle, CODER_RATE_LIMIT, 300_000);
  const idleBoundMs = (idle.users * LATENCY_MS) / CONCURRENCY;
  const allInCoderMs = fourth.lastUserAt - fourth.startedAt;
  const phase4 = describe(`Phase 4, ${idle.users} users pushed into an idle bridge, Coder rate limit ${CODER_RATE_LIMIT}/min per path`, fourth);
  phase4.push(
    `  all users in Coder       ${seconds(allInCoderMs)} after the first push (${(allInCoderMs / idleBoundMs).toFixed(2)}x ${idle.users} x ${LATENCY_MS} ms / ${CONCURRENCY} = ${seconds(idleBoundMs)}); ${seconds(fourth.lastUserAt - fourth.startedAt - fourth.pushMs)} after the last push was answered`,
    `  target within ${TARGET_IDLE_BURST_RATIO}x: ${verdict(allInCoderMs <= TARGET_IDLE_BURST_RATIO * idleBoundMs)}; no 429: ${verdict(fourth.rateLimitedCalls === 0)}`,
  );
  console.log(phase4.join('\n'));
}

/** User creates (all on one path) per minute, from the first seen in Coder to the last. */
function userCreatesPerMinute(figures: PhaseFigures): number {
  return (figures.population.users - 1) / ((figures.lastUserAt - figures.firstUserAt) / 60_000);
}

function createRateLine(figures: PhaseFigures): string {
  const perMinute = userCreatesPerMinute(figures);
  return `  POST /api/v2/users       ${figures.population.users} created between the first and the last in ${seconds(figures.lastUserAt - figures.firstUserAt)}: ${perMinute.toFixed(0)}/min = ${((perMinute / CODER_RATE_LIMIT) * 100).toFixed(1)}% of the limit`;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
