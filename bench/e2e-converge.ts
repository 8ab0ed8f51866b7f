import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { CoderView, E2E } from '../test/e2e/harness';
import { RECONCILE_QUEUE } from '../src/queue/jobs';
import { groupDisplayName, groupMemberIndexes, userEmail, type Population } from './e2e-push';

/**
 * Watches the simulator until it holds the whole population and the reconcile queue is idle, noting when each
 * milestone was first seen; then checks the final state exactly.
 */

const POLL_MS = 100;

export class NotConvergedError extends Error {
  readonly code = 'not_converged';
}

export interface Milestones {
  /** Epoch ms when the first and the last user were seen in Coder. */
  firstUserAt: number;
  lastUserAt: number;
  /** Epoch ms when Coder held everything and the queue was idle. */
  convergedAt: number;
}

/** What Coder must hold: written from the population, not read from the bridge. */
export function expectedView(population: Population): CoderView {
  const view: CoderView = { users: {}, groups: {} };
  for (let i = 0; i < population.users; i++) {
    view.users[userEmail(i)] = { username: `bench-user${i}`, email: userEmail(i), name: `Bench User${i}`, suspended: false };
  }
  for (let g = 0; g < population.groups; g++) {
    const displayName = groupDisplayName(g);
    const members = groupMemberIndexes(g, population).map(userEmail).sort();
    view.groups[displayName.replaceAll(' ', '-')] = { displayName, members };
  }
  return view;
}

export async function watchConvergence(e2e: E2E, population: Population, timeoutMs: number, pushing: Promise<unknown>): Promise<Milestones> {
  const redis = new Redis(e2e.config.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(RECONCILE_QUEUE, { connection: redis, prefix: e2e.prefix });
  let pushed = false;
  void pushing.then(() => (pushed = true), () => (pushed = true));
  const started = Date.now();
  let firstUserAt = 0;
  let lastUserAt = 0;
  try {
    while (Date.now() - started < timeoutMs) {
      // A count, not users(): sorting 10,000 users ten times a second would slow the simulator being measured.
      const users = e2e.sim.userCount() - 1; // less the owner
      if (users > 0 && !firstUserAt) firstUserAt = Date.now();
      if (users >= population.users && !lastUserAt) lastUserAt = Date.now();
      const groups = e2e.sim.groups();
      const groupsDone = groups.length === population.groups && groups.every((group) => group.members.size === population.membersPerGroup);
      if (pushed && lastUserAt && groupsDone) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
        if (Object.values(counts).every((n) => n === 0)) return { firstUserAt, lastUserAt, convergedAt: Date.now() };
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    throw new NotConvergedError(`not converged within ${timeoutMs} ms`);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** Coder holds exactly the population (names, e-mails, statuses, members) and the bridge's own view agrees. */
export async function checkExact(e2e: E2E, population: Population): Promise<string[]> {
  const expected = JSON.stringify(sorted(expectedView(population)));
  const problems: string[] = [];
  if (JSON.stringify(sorted(e2e.actualInCoder())) !== expected) problems.push('Coder differs from the population pushed');
  if (JSON.stringify(sorted(await e2e.desiredInCoder())) !== expected) problems.push("the bridge's desired state differs from the population pushed");
  return problems;
}

function sorted(view: CoderView): CoderView {
  const byKey = <T>(record: Record<string, T>) => Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
  return { users: byKey(view.users), groups: byKey(view.groups) };
}
