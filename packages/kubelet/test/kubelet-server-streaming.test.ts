import { type CriClient, collectStream, createCriClient, openStream } from '@nodeagent/cri-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeletServer, listen, type RunningServer } from '../src/server/kubelet-server';
import { parseStreamingPath, portForwardPorts, streamOptions } from '../src/server/streaming-routes';
import { criStreamingRuntime, type StreamingRuntime } from '../src/server/streaming-runtime';
import { CriSummaryProvider } from '../src/stats/summary-provider';
import type { Summary } from '../src/stats/summary-types';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';
import { openServerOptions } from './helpers/open-kubelet-server';
import { upgradeStatus } from './helpers/upgrade-status';

describe('streaming routes', () => {
  it('parses the exec/attach/portForward path forms', () => {
    expect(parseStreamingPath('/exec/ns/pod/app')).toEqual({
      kind: 'exec',
      namespace: 'ns',
      pod: 'pod',
      container: 'app',
    });
    expect(parseStreamingPath('/attach/ns/pod/uid-1/app')).toEqual({
      kind: 'attach',
      namespace: 'ns',
      pod: 'pod',
      uid: 'uid-1',
      container: 'app',
    });
    expect(parseStreamingPath('/portForward/ns/pod')).toEqual({
      kind: 'portForward',
      namespace: 'ns',
      pod: 'pod',
    });
    expect(parseStreamingPath('/portForward/ns/pod/uid-2')?.uid).toBe('uid-2');
    expect(parseStreamingPath('/exec/ns/pod')).toBeUndefined();
    expect(parseStreamingPath('/exec/ns//app')).toBeUndefined();
    expect(parseStreamingPath('/exec/a/b/c/d/e')).toBeUndefined();
    expect(parseStreamingPath('/containerLogs/ns/pod/app')).toBeUndefined();
    // The path is Go's URL.Path, decoded once already: a '%' left in it is part of the name.
    expect(parseStreamingPath('/exec/ns/pod/a%41')?.container).toBe('a%41');
  });

  it("reads the API server's input/output/error/tty flags (and kubectl's names), dropping stderr under a TTY", () => {
    expect(streamOptions(new URLSearchParams('command=ls&command=-l&input=1&output=1&error=1'))).toEqual({
      command: ['ls', '-l'],
      stdin: true,
      stdout: true,
      stderr: true,
      tty: false,
    });
    expect(
      streamOptions(new URLSearchParams('command=sh&stdin=true&stdout=true&stderr=true&tty=true')),
    ).toEqual({
      command: ['sh'],
      stdin: true,
      stdout: true,
      stderr: false,
      tty: true,
    });
    expect(portForwardPorts(new URLSearchParams('port=80&ports=443,8080&port=99999'))).toEqual([
      80, 443, 8080,
    ]);
  });
});

let h: EngineHarness;
let client: CriClient;
let server: RunningServer;
let guarded: RunningServer;
const calls: string[] = [];
const pod = testPod(
  { containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'sleep 3600'] }] },
  'shell',
);

beforeAll(async () => {
  h = await startEngine();
  h.kubelet.addPod(pod);
  await h.kubelet.settle();
  client = await createCriClient({ endpoint: h.fake.endpoint });
  const cri = criStreamingRuntime(client);
  // Records what reached the runtime, to check the flags the server passed on.
  const streaming: StreamingRuntime = {
    exec: (request) => {
      calls.push(`exec ${request.cmd.join(' ')} stdin=${request.stdin} stdout=${request.stdout}`);
      return cri.exec(request);
    },
    attach: cri.attach,
    portForward: cri.portForward,
  };
  const summary = new CriSummaryProvider({
    nodeName: 'node-a',
    rootDir: `${h.dir}/root`,
    podLogsDir: `${h.dir}/logs`,
    cri: client,
  });
  const common = { ...openServerOptions(h), streaming, summary };
  server = await listen(createKubeletServer(common), 0, '127.0.0.1');
  guarded = await listen(
    createKubeletServer({
      ...common,
      authenticate: async (request) =>
        request.headers['x-user'] ? { name: String(request.headers['x-user']), groups: [] } : undefined,
      authorize: async (user, attributes) => user.name === 'admin' && attributes.subresource === 'proxy',
    }),
    0,
    '127.0.0.1',
  );
});

afterAll(async () => {
  await server?.close();
  await guarded?.close();
  client?.close();
  await h?.close();
});

describe('kubelet server streaming and stats', () => {
  it('proxies an exec upgrade to the runtime and streams the output and exit status back', async () => {
    const session = await openStream(
      `http://127.0.0.1:${server.port}/exec/default/shell/app?command=echo&command=hello-exec&output=1&error=1`,
    );
    const result = await collectStream(session);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('hello-exec\n');
    expect(session.protocol).toBe('v4.channel.k8s.io');
    expect(calls.at(-1)).toBe('exec echo hello-exec stdin=false stdout=true');
  });

  it('reports a non-zero exit through the proxied error channel', async () => {
    const session = await openStream(
      `http://127.0.0.1:${server.port}/exec/default/shell/${pod.metadata.uid}/app?command=sh&command=-c&command=exit%203&output=1`,
    );
    expect((await session.exit).exitCode).toBe(3);
  });

  it('answers unknown pods, uids and containers with 404 and flagless requests with 400', async () => {
    expect((await upgradeStatus(server.port, '/exec/default/nope/app?command=true&output=1')).status).toBe(
      404,
    );
    const wrongUid = await upgradeStatus(
      server.port,
      '/exec/default/shell/other-uid/app?command=true&output=1',
    );
    expect(wrongUid).toEqual({ status: 404, body: 'pod does not exist\n' });
    const noContainer = await upgradeStatus(server.port, '/exec/default/shell/nope?command=true&output=1');
    expect(noContainer).toEqual({ status: 404, body: 'container not found ("nope")\n' });
    const noStreams = await upgradeStatus(server.port, '/exec/default/shell/app?command=true');
    expect(noStreams.status).toBe(400);
    expect(noStreams.body).toContain('at least 1 of stdin, stdout, stderr');
    expect((await upgradeStatus(server.port, '/pods')).status).toBe(404);
    // Without an upgrade the streaming protocols cannot run: upstream's upgrade-aware proxy
    // answers 500 once pod and container are found, and a missing pod is 404 as with one.
    const plain = await fetch(
      `http://127.0.0.1:${server.port}/exec/default/shell/app?command=true&output=1`,
      {
        method: 'POST',
      },
    );
    expect({ status: plain.status, body: await plain.text() }).toEqual({
      status: 500,
      body: 'Upgrade request required\n',
    });
    const plainMissing = await fetch(
      `http://127.0.0.1:${server.port}/exec/default/nope/app?command=true&output=1`,
      {
        method: 'POST',
      },
    );
    expect({ status: plainMissing.status, body: await plainMissing.text() }).toEqual({
      status: 404,
      body: 'pod does not exist\n',
    });
  });

  it('answers 502 when the runtime streaming server cannot be reached', async () => {
    const unreachable = await listen(
      createKubeletServer({
        ...openServerOptions(h),
        // Port 1 on loopback: nothing listens there, the connection is refused.
        streaming: {
          exec: async () => 'http://127.0.0.1:1/exec/token',
          attach: async () => 'http://127.0.0.1:1/attach/token',
          portForward: async () => 'http://127.0.0.1:1/portforward/token',
        },
      }),
      0,
      '127.0.0.1',
    );
    try {
      const out = await upgradeStatus(unreachable.port, '/exec/default/shell/app?command=true&output=1');
      expect(out.status).toBe(502);
      expect(out.body).toContain('error dialing the streaming server');
    } finally {
      await unreachable.close();
    }
  });

  it('counts WebSocket exec/attach/portforward sessions in the stream-close or tunneling protocol (kubelet_websocket_streaming_requests_total)', async () => {
    const counts = async () => {
      const text = await h.kubelet.metrics.registry.metrics();
      const value = (subresource: string) => {
        const series = `kubelet_websocket_streaming_requests_total{subresource="${subresource}"} `;
        const line = text.split('\n').find((l) => l.startsWith(series));
        return line === undefined ? 0 : Number(line.slice(series.length));
      };
      return { exec: value('exec'), attach: value('attach'), portforward: value('portforward'), text };
    };
    const websocket = (protocol: string) => ({
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Protocol': protocol,
    });
    const before = await counts();
    await upgradeStatus(
      server.port,
      '/exec/default/shell/app?command=true&output=1',
      websocket('v5.channel.k8s.io'),
    );
    await upgradeStatus(
      server.port,
      '/attach/default/shell/app?output=1',
      websocket('v5.channel.k8s.io, v4.channel.k8s.io'),
    );
    await upgradeStatus(
      server.port,
      '/portForward/default/shell?port=80',
      websocket('SPDY/3.1+portforward.k8s.io'),
    );
    // Older WebSocket protocols and SPDY upgrades are not the sessions this counts.
    await upgradeStatus(
      server.port,
      '/exec/default/shell/app?command=true&output=1',
      websocket('v4.channel.k8s.io'),
    );
    await upgradeStatus(server.port, '/exec/default/shell/app?command=true&output=1');
    // Nor is a request refused before it reaches the streaming endpoint.
    await upgradeStatus(
      guarded.port,
      '/exec/default/shell/app?command=true&output=1',
      websocket('v5.channel.k8s.io'),
    );
    const after = await counts();
    expect(after.text).toContain(
      '# HELP kubelet_websocket_streaming_requests_total [ALPHA] Total number of WebSocket streaming requests (exec/attach/portforward) received by the kubelet.',
    );
    expect(after.exec - before.exec).toBe(1);
    expect(after.attach - before.attach).toBe(1);
    expect(after.portforward - before.portforward).toBe(1);
  });

  it('authenticates and authorizes upgrade requests like any other (nodes/proxy)', async () => {
    const path = '/exec/default/shell/app?command=true&output=1';
    expect((await upgradeStatus(guarded.port, path)).status).toBe(401);
    const forbidden = await upgradeStatus(guarded.port, path, { 'x-user': 'bob' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toContain('verb=create, resource=nodes, subresource(s)=[proxy]');
    const before = calls.length;
    await upgradeStatus(guarded.port, '/exec/default/shell/app?command=true', { 'x-user': 'admin' });
    // The admin got through to option checking (400), without reaching the runtime.
    expect(calls.length).toBe(before);
    expect(
      (await fetch(`http://127.0.0.1:${guarded.port}/stats/summary`, { headers: { 'x-user': 'admin' } }))
        .status,
    ).toBe(403);
  });

  it('serves /stats/summary with the pod, its container and the node', async () => {
    const summary = (await (await fetch(`http://127.0.0.1:${server.port}/stats/summary`)).json()) as Summary;
    expect(summary.node.nodeName).toBe('node-a');
    expect(summary.node.memory?.availableBytes).toBeGreaterThan(0);
    expect(summary.node.fs?.capacityBytes).toBeGreaterThan(0);
    expect(summary.node.runtime?.imageFs?.usedBytes).toBeGreaterThan(0);
    const shell = summary.pods.find((p) => p.podRef.name === 'shell');
    expect(shell?.podRef.uid).toBe(pod.metadata.uid);
    expect(shell?.containers.map((c) => c.name)).toEqual(['app']);
    // The fake runtime reports 800 kB working set and 1 ms of CPU per container.
    expect(shell?.containers[0]?.memory?.workingSetBytes).toBe(800_000);
    expect(shell?.cpu?.usageCoreNanoSeconds).toBe(1_000_000);
    const slim = (await (
      await fetch(`http://127.0.0.1:${server.port}/stats/summary?only_cpu_and_memory=true`)
    ).json()) as Summary;
    expect(slim.node.fs).toBeUndefined();
    expect(slim.pods.find((p) => p.podRef.name === 'shell')?.containers[0]).toEqual({
      name: 'app',
      startTime: expect.any(String),
      cpu: expect.objectContaining({ usageCoreNanoSeconds: 1_000_000 }),
      memory: expect.objectContaining({ workingSetBytes: 800_000 }),
    });
  });
});
