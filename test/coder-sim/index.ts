/**
 * Coder REST API v2 simulator (users, organizations, members, groups, entitlements) for tests, benchmarks
 * and the demo. Behaviour follows /work/shared/reference/coder-api.md; see README.md in this folder for
 * what is simulated and the simplifications.
 */
export type { CoderSim, CoderSimDirect, CoderSimOptions, SimGroup, SimUser, SimUserStatus } from './types';
export { startCoderSim } from './server';
