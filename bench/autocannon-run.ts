import autocannon from 'autocannon';
import { exitWithParent, tellParent } from './child';
import type { LoadJob, LoadResult } from './load-result';
import { lookupPath, SCIM_TOKEN, userDocument, userPath } from './workload';

/**
 * The load generator, in its own process so it never shares an event loop with a server. Each request is set up
 * just before it is sent: lookups and gets rotate through the seeded users, creates use a fresh userName.
 */

interface CannonRequest {
  method?: string;
  path?: string;
  body?: string;
  headers?: Record<string, string>;
}

type RequestSetup = (request: CannonRequest) => CannonRequest;

function requestSetup(job: LoadJob): RequestSetup {
  // Start the rotation at a random point so consecutive runs do not replay the same keys in the same order.
  let next = Math.floor(Math.random() * Math.max(job.userNames.length, job.ids.length, 1));
  if (job.operation === 'lookup') return (request) => ({ ...request, method: 'GET', path: lookupPath(job.userNames[next++ % job.userNames.length]) });
  if (job.operation === 'get') return (request) => ({ ...request, method: 'GET', path: userPath(job.ids[next++ % job.ids.length]) });
  return (request) => ({ ...request, method: 'POST', path: '/scim/v2/Users', body: JSON.stringify(userDocument(`bench-${job.tag}-${next++}@example.com`)) });
}

function run(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: job.origin,
        connections: job.connections,
        duration: job.durationSeconds,
        headers: { authorization: `Bearer ${SCIM_TOKEN}`, 'content-type': 'application/scim+json' },
        requests: [{ setupRequest: requestSetup(job) as never }],
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({
          requestsPerSecond: result.requests.average,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          failures: result.non2xx + result.errors + result.timeouts,
        });
      },
    );
  });
}

process.on('message', (job: LoadJob) => {
  if (job.type !== 'run') return;
  run(job).then(
    (result) => tellParent({ type: 'result', ...result }),
    (err: unknown) => tellParent({ type: 'result-error', message: String(err) }),
  );
});
exitWithParent();
tellParent({ type: 'ready' });
