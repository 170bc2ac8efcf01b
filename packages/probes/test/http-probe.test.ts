import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PROBE_OUTPUT_BYTES, normalizeProbe, runHttpProbe, runProbe } from '../src/index';
import { unansweredPort } from './helpers/unanswered-port';

let server: Server;
let port: number;
let lastHeaders: IncomingHttpHeaders = {};
const hits = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hits.set(url.pathname, (hits.get(url.pathname) ?? 0) + 1);
    lastHeaders = req.headers;
    switch (url.pathname) {
      case '/ok':
        res.end('all good');
        return;
      case '/created':
        res.writeHead(201).end();
        return;
      case '/not-modified':
        res.writeHead(304).end();
        return;
      case '/missing':
        res.writeHead(404).end('nope');
        return;
      case '/error':
        res.writeHead(500).end();
        return;
      case '/big':
        res.end('x'.repeat(MAX_PROBE_OUTPUT_BYTES * 3));
        return;
      case '/slow':
        setTimeout(() => res.end('late'), 1500).unref();
        return;
      case '/redirect-same':
        res.writeHead(302, { location: '/ok' }).end();
        return;
      case '/redirect-other-host':
        // Same server, but named differently: the kubelet stops at a host change.
        res.writeHead(301, { location: `http://localhost:${port}/ok` }).end('moved away');
        return;
      case '/redirect-to-error':
        res.writeHead(307, { location: '/error' }).end();
        return;
      case '/loop':
        res.writeHead(302, { location: '/loop' }).end();
        return;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const probe = (path: string, extra: Partial<Parameters<typeof runHttpProbe>[0]> = {}) =>
  runHttpProbe({ scheme: 'http', host: '127.0.0.1', port, path, headers: [], timeoutMs: 1000, ...extra });

describe('runHttpProbe against a loopback server', () => {
  it('with anyStatusSucceeds (a lifecycle hook), any answer is Success', async () => {
    expect(await probe('/missing', { anyStatusSucceeds: true })).toEqual({
      result: 'Success',
      output: 'nope',
    });
    expect(await probe('/missing')).toEqual({
      result: 'Failure',
      output: 'HTTP probe failed with statuscode: 404',
    });
  });

  it('treats 2xx and 3xx as success and returns the body', async () => {
    expect(await probe('/ok')).toEqual({ result: 'Success', output: 'all good' });
    expect((await probe('/created')).result).toBe('Success');
    expect((await probe('/not-modified')).result).toBe('Success');
  });

  it('treats 4xx and 5xx as failure with the status code in the message', async () => {
    expect(await probe('/missing')).toEqual({
      result: 'Failure',
      output: 'HTTP probe failed with statuscode: 404',
    });
    expect((await probe('/error')).output).toContain('500');
  });

  it('sends the kubelet user agent, Accept */*, custom headers and a Host override', async () => {
    await probe('/ok');
    expect(lastHeaders['user-agent']).toMatch(/^kube-probe\/\d+\.\d+$/);
    expect(lastHeaders.accept).toBe('*/*');
    await probe('/ok', {
      headers: [
        { name: 'X-Custom', value: 'a' },
        { name: 'Host', value: 'example.internal' },
        { name: 'User-Agent', value: 'mine' },
      ],
    });
    expect(lastHeaders['x-custom']).toBe('a');
    expect(lastHeaders.host).toBe('example.internal');
    expect(lastHeaders['user-agent']).toBe('mine');
  });

  it('follows redirects on the same host', async () => {
    const before = hits.get('/ok') ?? 0;
    expect(await probe('/redirect-same')).toEqual({ result: 'Success', output: 'all good' });
    expect(hits.get('/ok')).toBe(before + 1);
    expect((await probe('/redirect-to-error')).result).toBe('Failure');
  });

  it('stops at a redirect to another host with a Warning carrying the body', async () => {
    const before = hits.get('/ok') ?? 0;
    const out = await probe('/redirect-other-host');
    expect(out.result).toBe('Warning');
    expect(out.output).toBe('Probe terminated redirects, Response body: moved away');
    expect(hits.get('/ok') ?? 0).toBe(before);
  });

  it('gives up after 10 redirects', async () => {
    const before = hits.get('/loop') ?? 0;
    const out = await probe('/loop');
    expect(out.result).toBe('Failure');
    expect(out.output).toContain('stopped after 10 redirects');
    expect((hits.get('/loop') ?? 0) - before).toBe(11);
  });

  it('truncates the body to 10 KiB', async () => {
    const out = await probe('/big');
    expect(out.result).toBe('Success');
    expect(out.output.length).toBe(MAX_PROBE_OUTPUT_BYTES);
  });

  it("reports a timeout as a failure in Go's http.Client words", async () => {
    const out = await probe('/slow', { timeoutMs: 200 });
    expect(out.result).toBe('Failure');
    expect(out.output).toMatch(
      /^Get "http:\/\/127\.0\.0\.1:\d+\/slow": context deadline exceeded \(Client\.Timeout exceeded while awaiting headers\)$/,
    );
  });

  it('reports connection refused as failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const out = await probe('/ok', { port: deadPort });
    // Go's http.Client over its dial error: `Readiness probe failed: Get "…": dial tcp …: connect: connection refused`.
    expect(out).toEqual({
      result: 'Failure',
      output: `Get "http://127.0.0.1:${deadPort}/ok": dial tcp 127.0.0.1:${deadPort}: connect: connection refused`,
    });
  });

  it("reports a dial the address never answers as Go's http.Client does", async () => {
    const silent = await unansweredPort();
    try {
      expect(await probe('/ok', { port: silent.port, timeoutMs: 300 })).toEqual({
        result: 'Failure',
        output: `Get "http://127.0.0.1:${silent.port}/ok": dial tcp 127.0.0.1:${silent.port}: i/o timeout (Client.Timeout exceeded while awaiting headers)`,
      });
    } finally {
      silent.close();
    }
  });

  it('reports a connection closed without an answer as Go does: EOF', async () => {
    const hangUp = createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => hangUp.listen(0, '127.0.0.1', resolve));
    const hangUpPort = (hangUp.address() as AddressInfo).port;
    try {
      expect(await probe('/ok', { port: hangUpPort })).toEqual({
        result: 'Failure',
        output: `Get "http://127.0.0.1:${hangUpPort}/ok": EOF`,
      });
    } finally {
      await new Promise((resolve) => hangUp.close(resolve));
    }
  });

  it('runs through runProbe with the pod IP and a named port', async () => {
    const spec = normalizeProbe({ httpGet: { port: 'web', path: 'ok' } }, 'Readiness', [
      { name: 'web', containerPort: port },
    ]);
    expect(await runProbe(spec, { podIP: '127.0.0.1' })).toEqual({ result: 'Success', output: 'all good' });
  });

  it('ends at once with Unknown when cancelled mid-request', async () => {
    const controller = new AbortController();
    const pending = probe('/slow', { timeoutMs: 5_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    // Uncancelled, /slow would answer 'late' with Success after 1.5 s.
    expect(await pending).toEqual({ result: 'Unknown', output: 'probe cancelled' });
    expect(await probe('/ok', { signal: controller.signal })).toEqual({
      result: 'Unknown',
      output: 'probe cancelled',
    });
  });
});
