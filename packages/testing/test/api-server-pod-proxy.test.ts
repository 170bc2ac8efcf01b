import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeletPathFor } from '../src/apiserver/index';
import type { KubeObject } from '../src/apiserver/kube-object';
import { type ApiServer, startApiServer } from '../src/index';
import { serveSpdyEcho } from './fixtures/spdy-echo';

/** What the stand-in kubelet saw. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

const wsHeaders = {
  Upgrade: 'websocket',
  'Sec-WebSocket-Version': '13',
  'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
};

/** Stream types of each SPDY connection the stand-in kubelet served, in creation order. */
const spdyStreams: string[][] = [];

describe('pods/log, exec, attach and portforward proxied to the kubelet', { timeout: 30_000 }, () => {
  let api: ApiServer;
  let kubelet: Server;
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();

  const pod = (name: string, spec: Record<string, unknown>): KubeObject =>
    ({ metadata: { name, namespace: 'default' }, spec }) as KubeObject;

  beforeAll(async () => {
    // A kubelet stand-in: logs echo the request, upgrades answer 101 and echo bytes back upper-cased.
    kubelet = createServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      if (req.url?.includes('/missing')) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('container "missing" in pod "web" not found\n');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('line one\n');
      if (req.url?.includes('follow=true')) setTimeout(() => res.end('line two\n'), 100);
      else res.end();
    });
    kubelet.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      sockets.add(socket);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      if (req.url?.startsWith('/exec/default/missing/')) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 19\r\n\r\npod does not exist\n');
        return;
      }
      if (req.url?.includes('command=spdy-echo')) {
        serveSpdyEcho(socket, spdyStreams);
        return;
      }
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade}\r\n\r\n`,
      );
      socket.on('data', (chunk: Buffer) => socket.write(chunk.toString().toUpperCase()));
    });
    await new Promise<void>((resolve) => kubelet.listen(0, '127.0.0.1', resolve));
    const port = (kubelet.address() as AddressInfo).port;
    api = await startApiServer({ kubelet: { scheme: 'http' } });
    api.registry.create(api.resource('v1', 'nodes'), undefined, {
      metadata: { name: 'node-p' },
      status: {
        addresses: [
          { type: 'Hostname', address: 'node-p.invalid' },
          { type: 'InternalIP', address: '127.0.0.1' },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: port } },
      },
    });
    const pods = api.resource('v1', 'pods');
    api.registry.create(pods, 'default', {
      metadata: { name: 'web' },
      spec: { nodeName: 'node-p', containers: [{ name: 'app', image: 'i:1' }] },
    });
    api.registry.create(pods, 'default', {
      metadata: { name: 'two' },
      spec: {
        nodeName: 'node-p',
        containers: [
          { name: 'a', image: 'i:1' },
          { name: 'b', image: 'i:1' },
        ],
      },
    });
    api.registry.create(pods, 'default', {
      metadata: { name: 'missing' },
      spec: { nodeName: 'node-p', containers: [{ name: 'app', image: 'i:1' }] },
    });
    api.registry.create(pods, 'default', {
      metadata: { name: 'pending' },
      spec: { containers: [{ name: 'app', image: 'i:1' }] },
    });
    api.registry.create(pods, 'default', {
      metadata: { name: 'lost' },
      spec: { nodeName: 'node-gone', containers: [{ name: 'app', image: 'i:1' }] },
    });
  });

  afterAll(async () => {
    await api?.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => kubelet.close(() => resolve()));
  });

  /** An upgrade request to the API server: the status and, after a 101, the echo of `send`. */
  function upgrade(path: string, headers: Record<string, string>, send = '') {
    return new Promise<{ status: number; echo: string; body: string }>((resolve, reject) => {
      const req = request(`${api.url}${path}`, {
        method: headers.Upgrade === 'websocket' ? 'GET' : 'POST',
        headers: { Connection: 'Upgrade', ...headers },
      });
      req.on('upgrade', (res, socket) => {
        socket.once('data', (chunk: Buffer) => {
          socket.destroy();
          resolve({ status: res.statusCode ?? 0, echo: chunk.toString(), body: '' });
        });
        socket.write(send);
      });
      req.on('response', async (res) => {
        let body = '';
        for await (const c of res) body += c;
        resolve({ status: res.statusCode ?? 0, echo: '', body });
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** A minimal WebSocket client offering v5.channel.k8s.io: send binary messages, collect them until close. */
  function webSocketV5(path: string, subprotocol = 'v5.channel.k8s.io') {
    return new Promise<{ protocol: string; send(m: Buffer): void; close(): void; closed: Promise<Buffer[]> }>(
      (resolve, reject) => {
        const socket = connect(api.port, '127.0.0.1');
        sockets.add(socket);
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
            `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${wsHeaders['Sec-WebSocket-Key']}\r\n` +
            `Sec-WebSocket-Protocol: ${subprotocol}\r\n\r\n`,
        );
        let buffer = Buffer.alloc(0);
        let protocol: string | undefined;
        const messages: Buffer[] = [];
        let done: (m: Buffer[]) => void = () => undefined;
        const closed = new Promise<Buffer[]>((r) => {
          done = r;
        });
        socket.on('close', () => done(messages));
        socket.on('error', reject);
        socket.on('data', (chunk: Buffer) => {
          buffer = Buffer.concat([buffer, chunk]);
          if (protocol === undefined) {
            const end = buffer.indexOf('\r\n\r\n');
            if (end < 0) return;
            const head = buffer.subarray(0, end).toString();
            if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(head));
            protocol = /Sec-WebSocket-Protocol: (\S+)/i.exec(head)?.[1] ?? '';
            buffer = buffer.subarray(end + 4);
            resolve({
              protocol,
              close: () => socket.end(Buffer.from([0x88, 0x80, 0, 0, 0, 0])),
              // Masked with an all-zero key: valid, and the payload stays readable.
              send: (m) => socket.write(Buffer.concat([Buffer.from([0x82, 0x80 | m.length, 0, 0, 0, 0]), m])),
              closed,
            });
          }
          while (buffer.length >= 2) {
            const length = (buffer[1] as number) & 0x7f;
            if (length > 125) throw new Error('test client only reads short frames');
            if (buffer.length < 2 + length) return;
            const opcode = (buffer[0] as number) & 0x0f;
            if (opcode === 2) messages.push(Buffer.from(buffer.subarray(2, 2 + length)));
            if (opcode === 8) socket.end();
            buffer = buffer.subarray(2 + length);
          }
        });
      },
    );
  }

  it('builds kubelet paths the way kube-apiserver does', () => {
    const web = pod('web', { containers: [{ name: 'app' }] });
    const q = (s: string) => new URLSearchParams(s);
    expect(
      kubeletPathFor(web, 'exec', q('command=cat&command=/etc/hostname&stdin=true&stdout=true&stderr=true')),
    ).toBe('/exec/default/web/app?input=1&output=1&error=1&command=cat&command=%2Fetc%2Fhostname');
    expect(kubeletPathFor(web, 'attach', q('container=app&stdout=true&tty=true'))).toBe(
      '/attach/default/web/app?output=1&tty=1',
    );
    expect(kubeletPathFor(web, 'log', q('follow=true&tailLines=2&timestamps=false&sinceSeconds=5'))).toBe(
      '/containerLogs/default/web/app?follow=true&sinceSeconds=5&tailLines=2',
    );
    expect(kubeletPathFor(web, 'portforward', q('ports=8080&ports=53'))).toBe(
      '/portForward/default/web?port=8080&port=53',
    );
    expect(() => kubeletPathFor(web, 'exec', q('command=ls'))).toThrow('at least 1 of stdin, stdout, stderr');
    expect(() => kubeletPathFor(web, 'exec', q('stdout=true'))).toThrow('at least one command');
    expect(() => kubeletPathFor(web, 'log', q('container=nope'))).toThrow(
      'container nope is not valid for pod web',
    );
    const two = pod('two', { containers: [{ name: 'a' }, { name: 'b' }] });
    expect(() => kubeletPathFor(two, 'log', q(''))).toThrow('choose one of: [a b]');
    const annotated = {
      ...two,
      metadata: { ...two.metadata, annotations: { 'kubectl.kubernetes.io/default-container': 'b' } },
    } as KubeObject;
    expect(kubeletPathFor(annotated, 'log', q(''))).toBe('/containerLogs/default/two/b');
  });

  it("proxies pods/log to the kubelet's /containerLogs at the node's InternalIP and kubelet port", async () => {
    const res = await fetch(`${api.url}/api/v1/namespaces/default/pods/web/log?tailLines=3&timestamps=true`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('line one\n');
    expect(seen.at(-1)?.url).toBe('/containerLogs/default/web/app?timestamps=true&tailLines=3');
    const followed = await fetch(`${api.url}/api/v1/namespaces/default/pods/web/log?follow=true`);
    expect(await followed.text()).toBe('line one\nline two\n');
    const missing = await fetch(
      `${api.url}/api/v1/namespaces/default/pods/two/log?container=a&previous=true`,
    );
    expect(missing.status).toBe(200);
    expect(seen.at(-1)?.url).toBe('/containerLogs/default/two/a?previous=true');
  });

  it('answers log errors as Status objects', async () => {
    const status = async (path: string) => {
      const res = await fetch(`${api.url}/api/v1/namespaces/default/pods/${path}`);
      return [res.status, ((await res.json()) as { message: string }).message];
    };
    expect(await status('nope/log')).toEqual([404, 'pods "nope" not found']);
    expect(await status('pending/log')).toEqual([400, 'pod pending does not have a host assigned']);
    expect(await status('lost/log')).toEqual([404, 'nodes "node-gone" not found']);
    expect(await status('two/log')).toEqual([
      400,
      'a container name must be specified for pod two, choose one of: [a b]',
    ]);
    // A container the pod does not have never reaches the kubelet.
    const before = seen.length;
    expect((await status('web/log?container=other'))[0]).toBe(400);
    expect(seen.length).toBe(before);
    // The kubelet's own refusal comes back with its code and text.
    expect(await status('missing/log')).toEqual([404, 'container "missing" in pod "web" not found']);
  });

  it('proxies an SPDY exec upgrade byte for byte with translated stream flags and the upgrade headers', async () => {
    const out = await upgrade(
      '/api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&command=echo%20hi&container=app&stdin=true&stdout=true&tty=true',
      {
        Upgrade: 'SPDY/3.1',
        'X-Stream-Protocol-Version': 'v4.channel.k8s.io',
        Authorization: 'Bearer secret',
      },
      'ping',
    );
    expect(out).toMatchObject({ status: 101, echo: 'PING' });
    const last = seen.at(-1);
    expect(last?.method).toBe('POST');
    expect(last?.url).toBe(
      '/exec/default/web/app?input=1&output=1&tty=1&command=sh&command=-c&command=echo+hi',
    );
    expect(last?.headers.upgrade).toBe('SPDY/3.1');
    expect(last?.headers['x-stream-protocol-version']).toBe('v4.channel.k8s.io');
    // The client's credentials are for the API server, not the kubelet.
    expect(last?.headers.authorization).toBeUndefined();
    const forward = await upgrade(
      '/api/v1/namespaces/default/pods/web/portforward?ports=8080',
      { Upgrade: 'SPDY/3.1' },
      'x',
    );
    expect(forward.status).toBe(101);
    expect(seen.at(-1)?.url).toBe('/portForward/default/web?port=8080');
    // Both went to the kubelet unchanged: this server negotiated nothing itself.
    expect(api.podStreams.slice(-2)).toEqual([
      {
        subresource: 'exec',
        namespace: 'default',
        pod: 'web',
        transport: 'spdy',
        clientProtocol: undefined,
        kubeletProtocol: undefined,
      },
      {
        subresource: 'portforward',
        namespace: 'default',
        pod: 'web',
        transport: 'spdy',
        clientProtocol: undefined,
        kubeletProtocol: undefined,
      },
    ]);
  });

  it("translates kubectl's v5 WebSocket exec into SPDY for the kubelet, stdin half-close included", async () => {
    const session = await webSocketV5(
      `/api/v1/namespaces/default/pods/web/exec?command=spdy-echo&stdin=true&stdout=true`,
    );
    expect(session.protocol).toBe('v5.channel.k8s.io');
    const last = seen.at(-1);
    expect(last?.method).toBe('POST');
    expect(last?.headers.upgrade).toBe('SPDY/3.1');
    expect(last?.headers['x-stream-protocol-version']).toBe('v4.channel.k8s.io');
    session.send(Buffer.from([0, ...Buffer.from('hello ')]));
    session.send(Buffer.from([0, ...Buffer.from('spdy')]));
    // v5 close signal for channel 0: end of stdin.
    session.send(Buffer.from([255, 0]));
    const messages = await session.closed;
    const stdout = Buffer.concat(messages.filter((m) => m[0] === 1).map((m) => m.subarray(1))).toString();
    expect(stdout).toBe('HELLO SPDY');
    const status = messages.find((m) => m[0] === 3);
    expect(JSON.parse(status!.subarray(1).toString())).toMatchObject({ status: 'Success' });
    // The stand-in saw the streams kubectl's flags ask for, in client-go's order.
    expect(spdyStreams.at(-1)).toEqual(['error', 'stdin', 'stdout']);
    // What this server negotiated on each side, as the kubelet answered it.
    expect(api.podStreams.at(-1)).toEqual({
      subresource: 'exec',
      namespace: 'default',
      pod: 'web',
      transport: 'websocket',
      clientProtocol: 'v5.channel.k8s.io',
      kubeletProtocol: 'v4.channel.k8s.io',
    });
  });

  it('passes a kubelet refusal of a v5 exec back before upgrading (kubectl then retries over SPDY)', async () => {
    const refused = await upgrade('/api/v1/namespaces/default/pods/missing/exec?command=ls&stdout=true', {
      ...wsHeaders,
      'Sec-WebSocket-Protocol': 'v5.channel.k8s.io',
    });
    const served = api.podStreams.length;
    expect(refused.status).toBe(404);
    expect(JSON.parse(refused.body).message).toBe('pod does not exist');
    // A refused upgrade is no stream.
    expect(api.podStreams.length).toBe(served);
  });

  it("carries port-forward's SPDY tunnel over WebSocket to the kubelet's SPDY upgrade", async () => {
    const tunnel = await webSocketV5(
      '/api/v1/namespaces/default/pods/web/portforward?ports=80',
      'SPDY/3.1+portforward.k8s.io',
    );
    expect(tunnel.protocol).toBe('SPDY/3.1+portforward.k8s.io');
    const last = seen.at(-1);
    expect(last?.url).toBe('/portForward/default/web?port=80');
    expect(last?.headers.upgrade).toBe('SPDY/3.1');
    expect(last?.headers['x-stream-protocol-version']).toBe('portforward.k8s.io');
    expect(api.podStreams.at(-1)).toMatchObject({
      subresource: 'portforward',
      transport: 'websocket',
      clientProtocol: 'SPDY/3.1+portforward.k8s.io',
    });
    // The stand-in echoes raw bytes upper-cased: they travel as binary messages both ways.
    tunnel.send(Buffer.from('spdy-bytes'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    tunnel.close();
    expect(Buffer.concat(await tunnel.closed).toString()).toBe('SPDY-BYTES');
  });

  it('refuses other WebSocket subprotocols (kubectl falls back to SPDY) but passes v4 through', async () => {
    const before = seen.length;
    const ws = wsHeaders;
    const unknown = await upgrade('/api/v1/namespaces/default/pods/web/portforward?ports=80', {
      ...ws,
      'Sec-WebSocket-Protocol': 'v9.tunnel.example',
    });
    expect(unknown.status).toBe(400);
    expect(seen.length).toBe(before);
    const v4 = await upgrade(
      '/api/v1/namespaces/default/pods/web/attach?stdout=true',
      { ...ws, 'Sec-WebSocket-Protocol': 'v4.channel.k8s.io' },
      'z',
    );
    expect(v4).toMatchObject({ status: 101, echo: 'Z' });
    expect(seen.at(-1)?.url).toBe('/attach/default/web/app?output=1');
  });

  it('rejects upgrades elsewhere and streaming subresources without an upgrade', async () => {
    expect(
      (await upgrade('/api/v1/namespaces/default/pods/web/status', { Upgrade: 'SPDY/3.1' })).status,
    ).toBe(400);
    expect(
      (
        await upgrade('/api/v1/namespaces/default/pods/nope/exec?stdout=true&command=ls', {
          Upgrade: 'SPDY/3.1',
        })
      ).status,
    ).toBe(404);
    const plain = await fetch(`${api.url}/api/v1/namespaces/default/pods/web/exec?command=ls&stdout=true`, {
      method: 'POST',
    });
    expect(plain.status).toBe(400);
    expect(((await plain.json()) as { message: string }).message).toBe('Upgrade request required');
  });

  it("passes GETs on nodes/{name}/proxy/... to that node's kubelet", async () => {
    const res = await fetch(`${api.url}/api/v1/nodes/node-p/proxy/stats/summary?only_cpu_and_memory=true`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('line one\n');
    expect(seen.at(-1)?.url).toBe('/stats/summary?only_cpu_and_memory=true');
    expect((await fetch(`${api.url}/api/v1/nodes/node-gone/proxy/pods`)).status).toBe(404);
    expect((await fetch(`${api.url}/api/v1/nodes/node-p/proxy/pods`, { method: 'DELETE' })).status).toBe(405);
  });

  it('lists the proxy subresources in discovery with their kinds and verbs', async () => {
    const list = (await (await fetch(`${api.url}/api/v1`)).json()) as {
      resources: { name: string; kind: string; verbs: string[] }[];
    };
    const find = (name: string) => list.resources.find((r) => r.name === name);
    expect(find('pods/log')).toMatchObject({ kind: 'Pod', verbs: ['get'] });
    expect(find('pods/exec')).toMatchObject({ kind: 'PodExecOptions', verbs: ['create', 'get'] });
    expect(find('pods/portforward')?.kind).toBe('PodPortForwardOptions');
    expect(find('nodes/proxy')?.kind).toBe('NodeProxyOptions');
  });
});
