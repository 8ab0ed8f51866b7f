/**
 * Standalone simulator: `npx tsx test/coder-sim/main.ts`.
 * Env: PORT (default 3000), CODER_SIM_RATE_LIMIT (per minute, default 0), CODER_SIM_LATENCY_MS (default 0),
 * CODER_SIM_GROUPS_LICENSED (default true).
 */
import { startCoderSim } from './index';

async function main(): Promise<void> {
  const sim = await startCoderSim({
    port: Number(process.env.PORT ?? 3000),
    rateLimitPerMinute: Number(process.env.CODER_SIM_RATE_LIMIT ?? 0),
    latencyMs: Number(process.env.CODER_SIM_LATENCY_MS ?? 0),
    groupsLicensed: process.env.CODER_SIM_GROUPS_LICENSED !== 'false',
  });
  process.stdout.write(`CODER_URL=${sim.url} CODER_SESSION_TOKEN=${sim.token}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e) => {
  process.stderr.write(`coder-sim: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
