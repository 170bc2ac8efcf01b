import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSocketRelay } from '../src/socket-relay';

describe('socket relay', () => {
  it('carries HTTP from a unix socket to TCP and back (the API server bridge)', async () => {
    const dir = mkdtempSync(join(tmpdir(), `na-demo-relay-${process.pid}-`));
    const http = createServer((req, res) => res.end(`you asked for ${req.url}`));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    const unix = await startSocketRelay({ path: join(dir, 'api.sock') }, { host: '127.0.0.1', port });
    // The namespace side: TCP → unix, as netns-relay.ts runs it.
    const tcp = await startSocketRelay({ host: '127.0.0.1', port: 0 }, { path: join(dir, 'api.sock') });
    try {
      const relayPort = (tcp.server.address() as AddressInfo).port;
      const body = await (await fetch(`http://127.0.0.1:${relayPort}/api/v1/nodes`)).text();
      expect(body).toBe('you asked for /api/v1/nodes');
    } finally {
      await tcp.close();
      await unix.close();
      await new Promise((r) => http.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
