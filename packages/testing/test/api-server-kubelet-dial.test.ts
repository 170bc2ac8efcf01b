import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeletLocation } from '../src/apiserver/kubelet-connection';
import { createServingCert } from '../src/apiserver/self-signed-cert';
import { type ApiServer, startApiServer } from '../src/index';

// A kubelet the API server cannot route to (the demo's, in a network namespace) is reached
// through KubeletClientOptions.dial: here a stand-in HTTPS kubelet on a unix socket, while the
// Node's address is a loopback one where nothing listens.
describe('the API server reaches a kubelet through a dialer', { timeout: 30_000 }, () => {
  let api: ApiServer;
  let dir: string;
  let kubelet: Server;
  const dialed: KubeletLocation[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'na-kubelet-dial-'));
    const sock = join(dir, 'kubelet.sock');
    const { cert, key } = await createServingCert();
    kubelet = createServer({ cert, key });
    kubelet.on('request', (req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`kubelet saw ${req.url}\n`);
    });
    kubelet.on('upgrade', (req, socket) => {
      const text = `upgrade ${req.url?.split('?')[0]}`;
      socket.end(`HTTP/1.1 404 Not Found\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
    });
    await new Promise<void>((resolve) => kubelet.listen(sock, resolve));
    api = await startApiServer({
      kubelet: {
        dial: (location) => {
          dialed.push(location);
          return connect(sock);
        },
      },
    });
    api.registry.create(api.resource('v1', 'nodes'), undefined, {
      metadata: { name: 'node-d' },
      status: {
        addresses: [{ type: 'InternalIP', address: '127.0.0.2' }],
        daemonEndpoints: { kubeletEndpoint: { Port: 1 } },
      },
    });
    api.registry.create(api.resource('v1', 'pods'), 'default', {
      metadata: { name: 'web' },
      spec: { nodeName: 'node-d', containers: [{ name: 'app', image: 'i:1' }] },
    });
  });

  afterAll(async () => {
    await api?.close();
    await new Promise<void>((resolve) => kubelet.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('pods/log: TLS to the kubelet over the dialed stream, for the Node address and port', async () => {
    const res = await fetch(`${api.url}/api/v1/namespaces/default/pods/web/log?tailLines=3`);
    expect(`${res.status} ${await res.text()}`).toBe(
      '200 kubelet saw /containerLogs/default/web/app?tailLines=3\n',
    );
    expect(dialed.at(-1)).toEqual({ scheme: 'https', host: '127.0.0.2', port: 1 });
  });

  it('an upgrade request (exec) goes through the dialer too', async () => {
    const before = dialed.length;
    const status = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(`${api.url}/api/v1/namespaces/default/pods/web/exec?command=true&stdout=true`, {
        method: 'POST',
        headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' },
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(String(res.statusCode));
      });
      req.on('response', async (res) => {
        let body = '';
        for await (const c of res) body += c;
        resolve(`${res.statusCode} ${body}`);
      });
      req.on('error', reject);
      req.end();
    });
    // The stand-in kubelet's own answer came back, so the stream reached it.
    expect(status).toBe('404 upgrade /exec/default/web/app');
    expect(dialed.length).toBe(before + 1);
  });
});
