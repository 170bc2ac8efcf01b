import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeProbe, runProbe } from '../src/index';

let dir: string;
let server: Server;
let port: number;

beforeAll(async () => {
  // A throwaway self-signed certificate: the kubelet does not verify probe certificates.
  dir = mkdtempSync(join(tmpdir(), `na-probes-tls-${process.pid}-`));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=probe-test',
    ],
    { stdio: 'ignore' },
  );
  server = createServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    (req, res) => {
      if (req.url === '/healthz') res.end('secure ok');
      else res.writeHead(503).end();
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('httpGet with scheme HTTPS', () => {
  it('probes a server with an untrusted certificate', async () => {
    const probe = normalizeProbe({ httpGet: { port, path: '/healthz', scheme: 'HTTPS' } }, 'Readiness');
    expect(await runProbe(probe, { podIP: '127.0.0.1' })).toEqual({ result: 'Success', output: 'secure ok' });
  });

  it('still fails on a bad status', async () => {
    const probe = normalizeProbe({ httpGet: { port, path: '/down', scheme: 'HTTPS' } }, 'Readiness');
    expect(await runProbe(probe, { podIP: '127.0.0.1' })).toEqual({
      result: 'Failure',
      output: 'HTTP probe failed with statuscode: 503',
    });
  });

  it('fails when speaking HTTP to the TLS port', async () => {
    const probe = normalizeProbe({ httpGet: { port, path: '/healthz' } }, 'Readiness');
    expect((await runProbe(probe, { podIP: '127.0.0.1' })).result).toBe('Failure');
  });
});
