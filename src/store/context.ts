import type { Cluster, Redis } from 'ioredis';
import type { StoreKeys } from './keys';
import type { ScriptCall, ScriptName, ScriptReply } from './scripts';

/** What the parts of the store share: one client, the key layout, and the registered scripts. */
export interface StoreContext {
  redis: Redis | Cluster;
  keys: StoreKeys;
  runScript(name: ScriptName, call: ScriptCall): Promise<ScriptReply>;
}
