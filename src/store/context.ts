import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import type { StoreKeys } from './keys';
import type { ScriptCall, ScriptName, ScriptReply } from './scripts';

/** What the parts of the store share: one client, the key layout, the registered scripts (and execPipeline below). */
export interface StoreContext {
  redis: Redis | Cluster;
  keys: StoreKeys;
  runScript(name: ScriptName, call: ScriptCall): Promise<ScriptReply>;
}

/** Runs a pipeline (one round trip) and returns its replies; the error of the first failed command is thrown. */
export async function execPipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  const results = await pipeline.exec();
  if (results === null) throw new Error('pipeline discarded');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
