import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { percentile } from './stats';
import { memberPatch, SCIM_TOKEN } from './workload';

export interface PatchLatency {
  members: number;
  p50Ms: number;
  p99Ms: number;
}

export class PatchFailedError extends Error {
  readonly code = 'bench_patch_failed';
}

/**
 * One-member PATCHes sent one after another (as an IdP sends them), alternating the removal and the re-adding of
 * `memberId`, so the group keeps its size. Latency is measured at the client, request sent to body read.
 */
export async function measureMemberPatches(
  origin: string,
  groupId: string,
  memberId: string,
  members: number,
  patches: number,
): Promise<PatchLatency> {
  const pool = new Pool(origin, { connections: 1 });
  const samples: number[] = [];
  try {
    for (let i = 0; i < patches; i++) {
      const body = JSON.stringify(memberPatch(i % 2 === 0 ? 'remove' : 'add', memberId));
      const started = performance.now();
      const response = await pool.request({
        method: 'PATCH',
        path: `/scim/v2/Groups/${groupId}`,
        headers: { authorization: `Bearer ${SCIM_TOKEN}`, 'content-type': 'application/scim+json' },
        body,
      });
      await response.body.dump();
      samples.push(performance.now() - started);
      if (response.statusCode >= 300) throw new PatchFailedError(`PATCH ${groupId} answered ${response.statusCode}`);
    }
  } finally {
    await pool.close();
  }
  return { members, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) };
}
