import type { ResyncJobView, ResyncQueue } from '../queue/resync-queue';
import { describeGrant } from '../reconcile/policy-preview';
import type { ResyncProgress, ResyncReport } from '../reconcile/resync';

/**
 * `coder-scim-bridge resync [--dry-run]`: queues a full resync through the resync queue (so it runs on a worker
 * like any other, and joins one already running), follows it, and prints its report. Exit code 0 when the
 * resync completed with no failed resource, 1 otherwise.
 */

export const POLL_INTERVAL_MS = 500;
/** How long a queued resync may wait for a worker to take it before the command gives up. */
export const START_TIMEOUT_MS = 30_000;

export interface ResyncCommandOptions {
  dryRun: boolean;
  resource?: string;
  queue: Pick<ResyncQueue, 'request' | 'view'>;
  /** One line of output (stdout in the real command). */
  print: (line: string) => void;
  pollIntervalMs?: number;
  /** Give up (exit code 1) when no worker has taken the job after this long. */
  startTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** States of a job no worker has taken yet. */
const NOT_STARTED = new Set(['waiting', 'prioritized', 'delayed', 'waiting-children']);

const FINISHED = new Set(['completed', 'failed']);

function progressLine(progress: ResyncProgress): string {
  return `resync ${progress.phase}: checked ${progress.checked}, drifted ${progress.drifted}, changed ${progress.changed}, failed ${progress.failed}`;
}

function reportLines(report: ResyncReport): string[] {
  const lines = [
    `resync ${report.dryRun ? '(dry run) ' : ''}finished in ${report.finishedAt - report.startedAt} ms: checked ${report.checked}, drifted ${report.drifted}, changed ${report.changed}, failed ${report.failed}, permanent failures retried ${report.retriedFailures}`,
  ];
  for (const resource of report.operations) {
    const operations = resource.operations.map((o) => o.op).join(', ') || 'record Coder state';
    lines.push(`  ${resource.type}/${resource.id}: ${resource.differences.length > 0 ? `differs in ${resource.differences.join(', ')}; ` : ''}${operations}`);
  }
  if (report.operationsOmitted > 0) lines.push(`  ... and ${report.operationsOmitted} more drifted resources`);
  if (report.policy) {
    const { evaluated, changed, changes, changesOmitted } = report.policy;
    lines.push(`access policy: ${changed} of ${evaluated} users and groups ${report.dryRun ? 'would change' : 'change'}`);
    for (const change of changes) {
      const grants = [...change.add.map((g) => `+ ${describeGrant(g)}`), ...change.remove.map((g) => `- ${describeGrant(g)}`)];
      lines.push(`  ${change.type}/${change.id} (${change.name}): ${grants.join('; ')}`);
    }
    if (changesOmitted > 0) lines.push(`  ... and ${changesOmitted} more`);
  }
  for (const problem of report.problems) lines.push(`  failed ${problem.type}/${problem.id}: ${problem.code}: ${problem.message}`);
  lines.push(`unmanaged in Coder (not touched): ${report.unmanaged.userCount} users, ${report.unmanaged.groupCount} groups`);
  for (const user of report.unmanaged.users) lines.push(`  user ${user.username} <${user.email}> (${user.status})`);
  for (const group of report.unmanaged.groups) lines.push(`  group ${group.name} (${group.memberCount} members)`);
  return lines;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Returns the process exit code. */
export async function runResyncCommand(options: ResyncCommandOptions): Promise<number> {
  const { queue, print } = options;
  const sleep = options.sleep ?? defaultSleep;
  const { id } = await queue.request({ dryRun: options.dryRun, ...(options.resource === undefined ? {} : { resource: options.resource }) });
  print(`resync job ${id} queued${options.dryRun ? ' (dry run)' : ''}`);

  const pollIntervalMs = options.pollIntervalMs ?? POLL_INTERVAL_MS;
  const startTimeoutMs = options.startTimeoutMs ?? START_TIMEOUT_MS;
  let lastLine: string | undefined;
  let view: ResyncJobView | null;
  // Counted in polls rather than read from a clock, so the limit holds however long each poll takes.
  for (let waitedMs = 0; ; waitedMs += pollIntervalMs) {
    view = await queue.view(id);
    if (!view) {
      print(`resync job ${id} disappeared before it finished`);
      return 1;
    }
    const line = view.progress ? progressLine(view.progress) : `resync ${view.state}`;
    if (line !== lastLine) print(line);
    lastLine = line;
    if (FINISHED.has(view.state)) break;
    if (NOT_STARTED.has(view.state) && !view.progress && waitedMs >= startTimeoutMs) {
      print(
        `resync job ${id} was not started within ${startTimeoutMs >= 1000 ? `${Math.round(startTimeoutMs / 1000)} s` : `${startTimeoutMs} ms`}: no bridge worker is running ` +
          `(start one with "coder-scim-bridge worker" or "all"; the job stays queued and runs when one starts)`,
      );
      return 1;
    }
    await sleep(pollIntervalMs);
  }

  if (view.state === 'failed' || !view.result) {
    print(`resync failed: ${view.error ?? 'no result'}`);
    return 1;
  }
  for (const line of reportLines(view.result)) print(line);
  return view.result.failed === 0 ? 0 : 1;
}
