import type { ChainableCommander } from 'ioredis';

/** Runs a pipeline (one round trip) and returns its replies; the error of the first failed command is thrown. */
export async function execPipeline(pipeline: ChainableCommander): Promise<unknown[]> {
  const results = await pipeline.exec();
  if (results === null) throw new Error('pipeline discarded');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
