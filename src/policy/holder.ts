import { createHash } from 'node:crypto';
import { compilePolicy, type CompiledPolicy } from './compile';
import type { AccessPolicy } from './schema';

/**
 * The access policy a worker applies now. A reload (ConfigMap update, SIGHUP) replaces it whole; reconcilers read
 * `current()` once per run, so one run never mixes two policies.
 */
export class AccessPolicyHolder {
  private compiled: CompiledPolicy | undefined;
  private text: string;

  constructor(
    private policy: AccessPolicy | undefined,
    /** Name of CODER_ORGANIZATION (or Coder's default organization): where a group no rule places lives. */
    readonly baseOrganization: string,
  ) {
    this.compiled = policy && compilePolicy(policy, baseOrganization);
    this.text = JSON.stringify(policy ?? null);
  }

  /** Undefined when no ACCESS_POLICY_FILE is set: the bridge grants nothing and removes nothing it granted. */
  current(): CompiledPolicy | undefined {
    return this.compiled;
  }

  source(): AccessPolicy | undefined {
    return this.policy;
  }

  /**
   * A short hash of what the policy says (not of the file's bytes: comments and layout do not count), so replicas
   * and restarts can tell whether they apply the same policy.
   */
  fingerprint(): string {
    return createHash('sha256').update(this.text).digest('hex').slice(0, 12);
  }

  /** False when `next` says exactly what the current policy says (a rewrite of the same file changes nothing). */
  replace(next: AccessPolicy | undefined): boolean {
    const text = JSON.stringify(next ?? null);
    if (text === this.text) return false;
    this.policy = next;
    this.text = text;
    this.compiled = next && compilePolicy(next, this.baseOrganization);
    return true;
  }
}
