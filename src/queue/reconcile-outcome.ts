import { requeueCauseOf, type RequeueReason } from '../reconcile/errors';
import type { ReconcileResult } from '../reconcile/reconcile-resource';

/**
 * The contract between a reconcile and the queue, as controller-runtime's reconcileHandler has it: a reconcile
 * is done, asks to run again after a while, or ended in a terminal error with a reason. Reconcilers return
 * results and throw what they cannot handle; this turns both into one of three outcomes, and the worker maps
 * each outcome to BullMQ and to metrics in one place (see worker.ts).
 */

export type ReconcileOutcome =
  | { type: 'done'; result: ReconcileResult }
  /** Recorded on the resource's sync status by the reconciler; not retried for this version. */
  | { type: 'terminal'; result: ReconcileResult; reason: string }
  | { type: 'requeue_after'; reason: RequeueReason; error: unknown; delayMs?: number; unreachable?: boolean };

/** The `outcome` label of `reconciles_total` and of the reconcile log line. */
export type OutcomeLabel = 'applied' | 'unchanged' | 'skipped' | 'failed_permanent' | RequeueReason;

export function requeueFor(error: unknown): ReconcileOutcome {
  return { type: 'requeue_after', error, ...requeueCauseOf(error) };
}

export function outcomeOfResult(result: ReconcileResult): ReconcileOutcome {
  if (result.outcome === 'failed') return { type: 'terminal', result, reason: result.error?.code ?? 'failed' };
  return { type: 'done', result };
}

/** Runs one reconcile; never throws. */
export async function runReconcile(reconcile: () => Promise<ReconcileResult>): Promise<ReconcileOutcome> {
  try {
    return outcomeOfResult(await reconcile());
  } catch (error) {
    return requeueFor(error);
  }
}

export function outcomeLabel(outcome: ReconcileOutcome): OutcomeLabel {
  switch (outcome.type) {
    case 'done':
      return outcome.result.outcome as Exclude<ReconcileResult['outcome'], 'failed'>;
    case 'terminal':
      return 'failed_permanent';
    case 'requeue_after':
      return outcome.reason;
  }
}
