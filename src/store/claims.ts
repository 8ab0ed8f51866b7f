import type { Cluster, Redis } from 'ioredis';
import { StoreKeys } from './keys';
import type { ResourceKind } from '../model/resource';

/**
 * Which SCIM resource owns a Coder user or group: `${prefix}:claim:<kind>:<coderId>` -> SCIM id.
 * Adoption (after a 409) must never hand one Coder user to two SCIM users, so claims are compare-and-set.
 */

/** KEYS: claim. ARGV: scimId, replaceable holder ('' for none). Returns the holder after the call. */
const CLAIM = `
local holder = redis.call('GET', KEYS[1])
if not holder or holder == ARGV[1] or (ARGV[2] ~= '' and holder == ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[1])
  return ARGV[1]
end
return holder
`;

/** KEYS: claim. ARGV: scimId. Deletes the claim only while that SCIM resource holds it. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`;

/** Retries of an unanswered create come within minutes; a day covers a long Coder outage. */
const UNANSWERED_CREATE_TTL_S = 86_400;

interface ClaimCommands {
  scimBridgeClaim(key: string, scimId: string, replaceable: string): Promise<string>;
  scimBridgeReleaseClaim(key: string, scimId: string): Promise<number>;
}

export class ClaimIndex {
  private readonly commands: ClaimCommands;
  private readonly keys: StoreKeys;

  constructor(
    private readonly redis: Redis | Cluster,
    prefix: string,
  ) {
    this.keys = new StoreKeys(prefix);
    redis.defineCommand('scimBridgeClaim', { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand('scimBridgeReleaseClaim', { numberOfKeys: 1, lua: RELEASE });
    this.commands = redis as unknown as ClaimCommands;
  }

  private key(kind: ResourceKind, coderId: string): string {
    return this.keys.claim(kind, coderId);
  }

  /**
   * Claims `coderId` for `scimId` unless another resource holds it (`replacing` names a holder that may be
   * displaced, e.g. a deleted SCIM resource). Returns the holder afterwards: `scimId` on success.
   */
  claim(kind: ResourceKind, coderId: string, scimId: string, replacing?: string): Promise<string> {
    return this.commands.scimBridgeClaim(this.key(kind, coderId), scimId, replacing ?? '');
  }

  holder(kind: ResourceKind, coderId: string): Promise<string | null> {
    return this.redis.get(this.key(kind, coderId));
  }

  /** The holders of many Coder ids in one MGET, in their order (null where unclaimed). */
  holders(kind: ResourceKind, coderIds: string[]): Promise<(string | null)[]> {
    if (coderIds.length === 0) return Promise.resolve([]);
    return this.redis.mget(coderIds.map((coderId) => this.key(kind, coderId)));
  }

  async release(kind: ResourceKind, coderId: string, scimId: string): Promise<void> {
    await this.commands.scimBridgeReleaseClaim(this.key(kind, coderId), scimId);
  }

  /**
   * A create that got no answer (a dropped connection, a timeout, a 5xx) may still have made the Coder resource,
   * which the retry then meets as a 409 with no claim on it. Noting the name before each create, and forgetting it
   * on a definite answer, lets the retry tell the bridge's own unanswered create from a resource it never made.
   */
  async noteCreate(kind: ResourceKind, scimId: string, coderName: string): Promise<void> {
    await this.redis.set(this.keys.unansweredCreate(kind, scimId), coderName, 'EX', UNANSWERED_CREATE_TTL_S);
  }

  async forgetCreate(kind: ResourceKind, scimId: string): Promise<void> {
    await this.redis.del(this.keys.unansweredCreate(kind, scimId));
  }

  /** The Coder name of this SCIM resource's last create if it was never answered, else null. */
  unansweredCreate(kind: ResourceKind, scimId: string): Promise<string | null> {
    return this.redis.get(this.keys.unansweredCreate(kind, scimId));
  }
}
