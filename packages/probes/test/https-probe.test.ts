import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { selfSignedCertificate } from '@nodeagent/primitives/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeProbe, runProbe } from '../src/index';

let server: Server;
let port: number;

beforeAll(async () => {
  // A throwaway self-signed certificate: the kubelet does not verify probe certificates.
  const { cert, key } = await selfSignedCertificate({ commonName: 'probe-test', validForMs: 86_400_000 });
  server = createServer({ key, cert }, (req, res) => {
    if (req.url === '/healthz') res.end('secure ok');
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
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

  it('fails as Go does when a plaintext server answers the TLS handshake', async () => {
    const plain = createHttpServer((_req, res) => res.end('plain'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const plainPort = (plain.address() as AddressInfo).port;
    try {
      const probe = normalizeProbe(
        { httpGet: { port: plainPort, path: '/x', scheme: 'HTTPS' } },
        'Readiness',
      );
      expect(await runProbe(probe, { podIP: '127.0.0.1' })).toEqual({
        result: 'Failure',
        output: `Get "https://127.0.0.1:${plainPort}/x": http: server gave HTTP response to HTTPS client`,
      });
    } finally {
      plain.closeAllConnections();
      await new Promise((resolve) => plain.close(resolve));
    }
  });

  it('fails when speaking HTTP to the TLS port', async () => {
    const probe = normalizeProbe({ httpGet: { port, path: '/healthz' } }, 'Readiness');
    expect((await runProbe(probe, { podIP: '127.0.0.1' })).result).toBe('Failure');
  });
});
