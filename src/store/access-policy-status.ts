import type { Cluster, Redis } from 'ioredis';

/**
 * `${prefix}:access-policy`: what the workers know of the access policy, shared through Redis so that every
 * `serve` replica's /admin/status shows it (a `serve` process neither reloads the policy nor reads Coder's IdP
 * sync settings). Each field is written whole by the worker that last learnt it.
 */

export interface LoadedPolicy {
  file: string;
  /** AccessPolicyHolder.fingerprint(): a restart compares it with the policy it loads. */
  fingerprint: string;
  rules: number;
  onSuspend: string;
  /** Milliseconds since the epoch. */
  loadedAt: number;
}

export interface PolicyReloadFailure {
  at: number;
  file: string;
  problems: string[];
}

export interface IdpSyncCheck {
  /** When the settings were last read (or tried). */
  at: number;
  /** Where Coder's own IdP sync overlaps what the bridge manages (empty: none, or no Premium licence). */
  warnings: string[];
  /** Why the settings could not be read at `at` (the warnings are then those of the last check that could). */
  error?: string;
}

export interface AccessPolicyStatus {
  loaded: LoadedPolicy | null;
  /** The last reload refused since the last one that succeeded. */
  reloadFailure: PolicyReloadFailure | null;
  idpSync: IdpSyncCheck | null;
}

type Field = keyof AccessPolicyStatus;

export class AccessPolicyStatusRecord {
  private readonly key: string;

  constructor(
    private readonly redis: Redis | Cluster,
    prefix: string,
  ) {
    this.key = `${prefix}:access-policy`;
  }

  async read(): Promise<AccessPolicyStatus> {
    const [loaded, reloadFailure, idpSync] = await this.redis.hmget(this.key, 'loaded', 'reloadFailure', 'idpSync');
    const parse = <T>(json: string | null): T | null => (json === null ? null : (JSON.parse(json) as T));
    return { loaded: parse(loaded), reloadFailure: parse(reloadFailure), idpSync: parse(idpSync) };
  }

  /** A successful load clears the failure it supersedes. */
  async loaded(loaded: LoadedPolicy): Promise<void> {
    await this.redis.multi().hset(this.key, 'loaded', JSON.stringify(loaded)).hdel(this.key, 'reloadFailure').exec();
  }

  /** The workers run without a policy: nothing of an earlier one is shown, and a later one is re-evaluated in full. */
  async unloaded(): Promise<void> {
    await this.redis.hdel(this.key, 'loaded', 'reloadFailure');
  }

  async write<F extends Field>(field: F, value: NonNullable<AccessPolicyStatus[F]>): Promise<void> {
    await this.redis.hset(this.key, field, JSON.stringify(value));
  }
}
