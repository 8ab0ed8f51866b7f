import type { CoderView, E2E } from '../e2e/harness';
import type { ExpectedState } from './workload';

/**
 * The acceptance check of every fault scenario: the store holds exactly what the run had acknowledged, Coder
 * holds exactly what the store asks for, and Coder has no duplicate user or group.
 */

export interface ScenarioFigures {
  scenario: string;
  /** From the end of the run (the last acknowledged request) to convergence. */
  convergeMs: number;
  /** From the first request to convergence. */
  totalMs: number;
  coderCalls: number;
  coderWrites: number;
}

function asExpected(view: CoderView): ExpectedState {
  const users = Object.fromEntries(Object.entries(view.users).map(([email, user]) => [email, { name: user.name, suspended: user.suspended }]));
  const groups = Object.fromEntries(Object.values(view.groups).map((group) => [group.displayName, group.members]));
  return { users, groups };
}

export function coderCallCount(e2e: E2E): number {
  return Object.values(e2e.sim.calls()).reduce((sum, n) => sum + n, 0);
}

/** Simulator users and groups the bridge made, counting duplicates that the e-mail-keyed views would hide. */
function managedInSimulator(e2e: E2E): { users: { email: string }[]; groupNames: string[] } {
  const users = e2e.sim.users().filter((user) => user.id !== e2e.sim.ownerId && !user.deleted);
  const groupNames = e2e.sim.groups().map((group) => group.name).filter((name) => name !== 'Everyone');
  return { users, groupNames };
}

export async function expectConverged(e2e: E2E, scenario: string, expected: ExpectedState, runStartedAt: number, timeoutMs = 60_000): Promise<ScenarioFigures> {
  const convergeMs = await e2e.waitForConvergence(timeoutMs);
  expect(asExpected(await e2e.desiredInCoder())).toEqual(expected);
  expect(asExpected(e2e.actualInCoder())).toEqual(expected);

  const { users, groupNames } = managedInSimulator(e2e);
  expect(users).toHaveLength(Object.keys(expected.users).length);
  expect(new Set(users.map((user) => user.email.toLowerCase())).size).toBe(users.length);
  expect(groupNames).toHaveLength(Object.keys(expected.groups).length);
  expect(new Set(groupNames).size).toBe(groupNames.length);

  const figures: ScenarioFigures = { scenario, convergeMs, totalMs: Date.now() - runStartedAt, coderCalls: coderCallCount(e2e), coderWrites: e2e.sim.writeCalls() };
  console.log(
    `[faults] ${scenario}: converged ${figures.convergeMs} ms after the last acknowledged request (${figures.totalMs} ms in all); ` +
      `Coder calls ${figures.coderCalls} (${figures.coderWrites} writes)`,
  );
  return figures;
}
