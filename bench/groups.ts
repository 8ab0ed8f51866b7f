import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { AppliedGroupState } from '../src/reconcile/plan';
import { startE2E, type E2E } from '../test/e2e/harness';
import { seedProvisionedUsers, type SeededUser } from '../test/integration/large-group-seed';
import { startChild, type BenchChild } from './child';
import { percentile } from './stats';
import { memberPatch } from './workload';
import { GROUP_SCHEMA } from '../src/scim/urns';

/**
 * npm run bench:groups -- issue 13's benchmark. For groups of 1,000, 10,000 and 50,000 members: one single-member
 * SCIM PATCH at a time (add a user, remove it again), and per change the lag from the SCIM 2xx until the Coder
 * simulator holds the change, the bridge's CPU time, and the longest event-loop block. The bridge runs in `all`
 * mode as its own process (bench/servers/group-bridge.ts) against the simulator without added latency; the
 * simulator and this orchestrator share another. The members are seeded straight into the simulator and the
 * store; the group reaches Coder through the bridge (all members added at once, which is measured too).
 * Targets: CPU per change at 50,000 within 3x of 1,000; no event-loop block over 50 ms.
 * BENCH_GROUP_SIZES (comma-separated) overrides the sizes for a quick try.
 */

const SIZES = (process.env.BENCH_GROUP_SIZES ?? '1000,10000,50000').split(',').map(Number);
const CHANGES = 30;
const WARMUP = 6;
const POLL_MS = 1;
const BULK_TIMEOUT_MS = 600_000;
const TARGET_CPU_RATIO = 3;
const TARGET_BLOCK_MS = 50;

interface BridgeStats {
  cpuMs: number;
  /** How late a 5 ms timer fired at worst (OS descheduling on a busy machine included). */
  maxDelayMs: number;
  /** The same, capped by the CPU the bridge spent meanwhile: the event loop actually busy. */
  maxBlockMs: number;
}

interface SizeFigures {
  members: number;
  bulk: { ms: number; cpuMs: number; maxBlockMs: number; maxDelayMs: number };
  lagMs: number[];
  cpuMs: number[];
  maxBlockMs: number;
  maxDelayMs: number;
  /** The simulator alone answering a one-member PATCH of this group (it renders every member, as Coder does). */
  simPatchMs: number[];
}

class BenchFailedError extends Error {
  readonly code = 'bench_groups_failed';
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > timeoutMs) throw new BenchFailedError(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

async function runSize(members: number): Promise<SizeFigures> {
  let child: BenchChild | undefined;
  const e2e: E2E = await startE2E({
    env: { WORKER_CONCURRENCY: '4', LOG_LEVEL: 'warn' },
    launch: async (env) => {
      child = startChild('servers/group-bridge.ts', { env });
      const { origin } = await child.next<{ origin: string }>('ready');
      return { origin, close: () => child!.stop() };
    },
  });
  const stats = async (): Promise<BridgeStats> => {
    const reply = child!.next<BridgeStats>('stats');
    child!.send({ type: 'stats' });
    return reply;
  };
  try {
    const spares = (WARMUP + CHANGES) / 2 + 1;
    const users = await seedProvisionedUsers(e2e.store, e2e.sim, members + spares, `m${members}-`);
    const [initial, changing] = [users.slice(0, members), users.slice(members)];
    const created = await e2e.scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: `Large ${members}` });
    if (created.status !== 201) throw new BenchFailedError(`group create answered ${created.status}`);
    const groupId: string = created.body.id;
    const settled = async () => (await e2e.store.pending()).length === 0;
    const coderGroupId = async () => (await e2e.store.getSync<AppliedGroupState>('group', groupId))?.applied?.coderId;
    await until(settled, BULK_TIMEOUT_MS, 'the empty group to land');
    // Written without a job: the PATCH below queues the reconcile that applies them all.
    await e2e.store.changeMembers(groupId, { add: initial.map((user) => user.id) });
    const patch = async (op: 'add' | 'remove', user: SeededUser) => {
      const reply = await e2e.scim('PATCH', `/Groups/${groupId}`, memberPatch(op, user.id));
      if (reply.status >= 300) throw new BenchFailedError(`member PATCH answered ${reply.status}`);
    };

    // All members at once: the group is reconciled from a change of `members` entries.
    const bulkBefore = await stats();
    const bulkStarted = performance.now();
    await patch('add', changing[0]);
    await until(settled, BULK_TIMEOUT_MS, `${members} members to land`);
    const bulkMs = performance.now() - bulkStarted;
    const bulkAfter = await stats();
    const coderId = (await coderGroupId())!;
    const inCoder = e2e.sim.groups().find((group) => group.id === coderId)?.members.size;
    if (inCoder !== members + 1) throw new BenchFailedError(`Coder holds ${inCoder} members, not ${members + 1}`);

    const figures: SizeFigures = {
      members,
      bulk: { ms: bulkMs, cpuMs: bulkAfter.cpuMs - bulkBefore.cpuMs, maxBlockMs: bulkAfter.maxBlockMs, maxDelayMs: bulkAfter.maxDelayMs },
      lagMs: [],
      cpuMs: [],
      maxBlockMs: 0,
      maxDelayMs: 0,
      simPatchMs: [],
    };
    for (let i = 0; i < WARMUP + CHANGES; i++) {
      const user = changing[1 + Math.floor(i / 2)];
      const add = i % 2 === 0;
      const before = await stats();
      await patch(add ? 'add' : 'remove', user);
      const acked = performance.now();
      await until(() => e2e.sim.hasGroupMember(coderId, user.coderId) === add, 30_000, 'the change to reach Coder');
      const lagMs = performance.now() - acked;
      await until(settled, 30_000, 'the reconcile to finish');
      const after = await stats();
      if (i < WARMUP) continue;
      figures.lagMs.push(lagMs);
      figures.cpuMs.push(after.cpuMs - before.cpuMs);
      figures.maxBlockMs = Math.max(figures.maxBlockMs, after.maxBlockMs);
      figures.maxDelayMs = Math.max(figures.maxDelayMs, after.maxDelayMs);
    }
    figures.simPatchMs = await timeSimulatorPatches(e2e, coderId, changing[changing.length - 1].coderId);
    return figures;
  } finally {
    await e2e.close();
  }
}

/** The same one-member PATCHes sent to the simulator directly, timed to the answer's headers. */
async function timeSimulatorPatches(e2e: E2E, coderGroupId: string, coderUserId: string): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const body = i % 2 === 0 ? { add_users: [coderUserId] } : { remove_users: [coderUserId] };
    const started = performance.now();
    const reply = await request(`${e2e.sim.url}/api/v2/groups/${coderGroupId}`, {
      method: 'PATCH',
      headers: { 'coder-session-token': e2e.sim.token, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    samples.push(performance.now() - started);
    await reply.body.dump({ limit: 0 });
  }
  return samples;
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
const ms = (value: number) => `${value.toFixed(1)} ms`;

async function main(): Promise<void> {
  const results: SizeFigures[] = [];
  for (const members of SIZES) {
    const figures = await runSize(members);
    results.push(figures);
    console.log(
      [
        `${members} members`,
        `  all added at once        ${(figures.bulk.ms / 1000).toFixed(1)} s, bridge CPU ${ms(figures.bulk.cpuMs)}, ` +
          `longest event-loop block ${ms(figures.bulk.maxBlockMs)} (delay ${ms(figures.bulk.maxDelayMs)})`,
        `  per single-member change (${CHANGES} changes, adds and removes in turn, after ${WARMUP} not counted):`,
        `    lag SCIM 2xx -> Coder  p50 ${ms(percentile(figures.lagMs, 50))}, p90 ${ms(percentile(figures.lagMs, 90))}` +
          ` (the simulator alone answers such a PATCH in p50 ${ms(percentile(figures.simPatchMs, 50))})`,
        `    bridge CPU             p50 ${ms(percentile(figures.cpuMs, 50))}, p90 ${ms(percentile(figures.cpuMs, 90))}`,
        `    longest event-loop block ${ms(figures.maxBlockMs)} (delay ${ms(figures.maxDelayMs)})`,
      ].join('\n'),
    );
  }
  const smallest = results[0];
  const largest = results[results.length - 1];
  const ratio = percentile(largest.cpuMs, 50) / percentile(smallest.cpuMs, 50);
  const longest = Math.max(...results.flatMap((r) => [r.maxBlockMs, r.bulk.maxBlockMs]));
  console.log(
    [
      `CPU per change at ${largest.members} / at ${smallest.members}: ${ratio.toFixed(2)}x (target <= ${TARGET_CPU_RATIO}x): ${verdict(ratio <= TARGET_CPU_RATIO)}`,
      `longest event-loop block, bulk adds included: ${ms(longest)} (target <= ${TARGET_BLOCK_MS} ms): ${verdict(longest <= TARGET_BLOCK_MS)}`,
      '(block: how late a 5 ms timer fired, capped by the CPU the bridge spent meanwhile; delay: uncapped, OS descheduling included)',
    ].join('\n'),
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
