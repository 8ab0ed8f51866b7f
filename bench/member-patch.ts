import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { percentile } from './stats';
import { memberPatch, SCIM_TOKEN } from './workload';

export interface PatchTarget {
  groupId: string;
  /** A member of the group: removed and re-added in turn, so the group keeps its size. */
  memberId: string;
  members: number;
}

export interface PatchLatency {
  members: number;
  p50Ms: number;
  p99Ms: number;
}

export class PatchFailedError extends Error {
  readonly code = 'bench_patch_failed';
}

/**
 * One-member PATCHes sent one after another (as an IdP sends them), measured at the client from request sent to
 * body read. The groups take turns, one PATCH each per round, so a hiccup elsewhere on the machine (a GC, another
 * process) lands on every group alike instead of on whichever group was being measured at the time.
 * The first `warmupRounds` are not counted.
 */
export async function measureMemberPatches(origin: string, targets: PatchTarget[], rounds: number, warmupRounds: number): Promise<PatchLatency[]> {
  const pool = new Pool(origin, { connections: 1 });
  const samples: number[][] = targets.map(() => []);
  try {
    for (let round = 0; round < warmupRounds + rounds; round++) {
      for (const [i, target] of targets.entries()) {
        const body = JSON.stringify(memberPatch(round % 2 === 0 ? 'remove' : 'add', target.memberId));
        const started = performance.now();
        const response = await pool.request({
          method: 'PATCH',
          path: `/scim/v2/Groups/${target.groupId}`,
          headers: { authorization: `Bearer ${SCIM_TOKEN}`, 'content-type': 'application/scim+json' },
          body,
        });
        await response.body.dump();
        if (round >= warmupRounds) samples[i].push(performance.now() - started);
        if (response.statusCode >= 300) throw new PatchFailedError(`PATCH ${target.groupId} answered ${response.statusCode}`);
      }
    }
  } finally {
    await pool.close();
  }
  return targets.map((target, i) => ({ members: target.members, p50Ms: percentile(samples[i], 50), p99Ms: percentile(samples[i], 99) }));
}
