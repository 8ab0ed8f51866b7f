import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { exitWithParent, tellParent } from '../child';

/** Listens on a free loopback port, tells the orchestrator where, and stops cleanly on SIGTERM. */
export function serveBench(app: Express): void {
  exitWithParent();
  const server: Server = app.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    tellParent({ type: 'ready', origin: `http://127.0.0.1:${port}` });
  });
  server.keepAliveTimeout = 65_000;
  process.once('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
