import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { type CriClient, collectStream, createCriClient, openStream } from '@nodeagent/cri-client';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { parseKubeletConfiguration } from '../../src/config/kubelet-configuration';
import { criPodRuntime } from '../../src/cri/cri-pod-runtime';
import { Kubelet } from '../../src/kubelet';
import { createKubeletServer, listen, type RunningServer } from '../../src/server/kubelet-server';
import { alwaysAllow, kubeletAuthenticator } from '../../src/server/server-auth';
import { criStreamingRuntime } from '../../src/server/streaming-runtime';
import { selfSignedCertificate } from '../../src/server/tls-material';
import { CriSummaryProvider } from '../../src/stats/summary-provider';
import type { Summary } from '../../src/stats/summary-types';
import { apiPodStatusWriter } from '../../src/status/api-pod-status-writer';
import { netnsConnector, runKubectl } from './node-harness';
import { type PrivateContainerd, startPrivateContainerd } from './private-containerd';

// The private containerd's streaming server listens on 127.0.0.1 inside its network namespace:
// the kubelet proxies to it through `busybox nc` started there (netnsConnector), never touching
// the host's stack.

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const nodeName = `node-e-${process.pid}`;
let containerd: PrivateContainerd;
let client: CriClient;
let kubelet: Kubelet;
let server: RunningServer;
let plainServer: RunningServer;
let api: ApiServer;
let dir: string;
let kubeconfig: string;
let pod: Pod;
const children = new Set<ChildProcess>();

/** kubectl against the in-process API server; stdin text is piped in when given. */
function kubectl(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runKubectl(kubeconfig, dir, children, args, stdin);
}

function kubeletGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port: server.port, path, rejectUnauthorized: false },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubectl-e2e-${process.pid}-`));
  kubeconfig = join(dir, 'kubeconfig');
  containerd = await startPrivateContainerd();
  const busybox = containerd.images!.busybox.name;
  client = await createCriClient({ endpoint: containerd.endpoint });
  const podLogsDir = join(dir, 'logs');
  const rootDir = join(dir, 'root');
  api = await startApiServer();
  api.writeKubeconfig(kubeconfig);
  kubelet = new Kubelet({
    api: {
      // kubectl port-forward wants the API to say Running.
      statusWriter: apiPodStatusWriter(api.kubeConfig().makeApiClient(CoreV1Api)),
    },
    node: {
      name: nodeName,
      rootDir,
      hostIPs: ['127.0.0.1'],
      memoryCapacity: 2 * 1024 ** 3,
    },
    runtime: criPodRuntime(client),
    config: parseKubeletConfiguration({ podLogsDir, volumePluginDir: join(dir, 'volume-plugins') }).config,
    pacing: {
      relistPeriodMs: 200,
      retryMs: 500,
    },
  });
  await kubelet.start();
  const serverOptions = {
    kubelet,
    nodeName,
    podLogsDir,
    authenticate: kubeletAuthenticator({ x509: false, anonymous: true }),
    authorize: alwaysAllow,
    streaming: criStreamingRuntime(client, { connect: netnsConnector(containerd.netnsPath) }),
    summary: new CriSummaryProvider({ nodeName, rootDir, podLogsDir, cri: client }),
  };
  server = await listen(
    createKubeletServer({ ...serverOptions, tls: await selfSignedCertificate(nodeName, ['127.0.0.1']) }),
    0,
    '127.0.0.1',
  );
  // The same kubelet over plain HTTP, for the WebSocket client of @nodeagent/cri-client.
  plainServer = await listen(createKubeletServer(serverOptions), 0, '127.0.0.1');
  api.registry.create(api.resource('v1', 'nodes'), undefined, {
    metadata: { name: nodeName },
    status: {
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: server.port } },
    },
  });
  pod = api.registry.create(api.resource('v1', 'pods'), 'default', {
    metadata: { name: 'talker' },
    spec: {
      nodeName,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'app',
          image: busybox,
          command: [
            'sh',
            '-c',
            'echo first-line; i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.3; done',
          ],
        },
        {
          name: 'web',
          image: busybox,
          command: ['sh', '-c', 'while true; do echo pf-hello | nc -l -p 8080; done'],
        },
      ],
    },
  }) as unknown as Pod;
  kubelet.addPod(pod);
  await waitFor('the pod to run', () => {
    const stored = api.registry.find(api.resource('v1', 'pods'), 'default', 'talker') as unknown as
      | Pod
      | undefined;
    return stored?.status?.phase === 'Running' ? true : undefined;
  });
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  if (kubelet) {
    for (const p of kubelet.getPods()) kubelet.removePod(p);
    await kubelet.settle().catch(() => undefined);
    await kubelet.stop();
  }
  await server?.close();
  await plainServer?.close();
  await api?.close();
  client?.close();
  await containerd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 120_000);

describe('kubelet server end to end: /stats/summary, kubectl logs, exec, attach and port-forward', {
  timeout: 60_000,
}, () => {
  it('reports non-zero cpu and memory for the running containers in /stats/summary', async () => {
    const summary = await waitFor('container stats', async () => {
      const { status, body } = await kubeletGet('/stats/summary');
      expect(status).toBe(200);
      const parsed = JSON.parse(body) as Summary;
      const app = parsed.pods
        .find((p) => p.podRef.name === 'talker')
        ?.containers.find((c) => c.name === 'app');
      return (app?.memory?.workingSetBytes ?? 0) > 0 && (app?.cpu?.usageCoreNanoSeconds ?? 0) > 0
        ? parsed
        : undefined;
    });
    expect(summary.node.nodeName).toBe(nodeName);
    expect(summary.node.memory?.availableBytes).toBeGreaterThan(0);
    expect(summary.node.fs?.capacityBytes).toBeGreaterThan(0);
    // containerd refreshes snapshot usage on a timer, so usedBytes may still be 0 this early.
    expect(summary.node.runtime?.imageFs?.capacityBytes).toBeGreaterThan(0);
    expect(summary.node.runtime?.imageFs?.usedBytes).toBeGreaterThanOrEqual(0);
    const talker = summary.pods.find((p) => p.podRef.name === 'talker');
    expect(talker?.podRef.uid).toBe(pod.metadata.uid);
    expect(talker?.containers.map((c) => c.name)).toEqual(['app', 'web']);
    expect(talker?.memory?.workingSetBytes).toBeGreaterThan(0);
    expect(talker?.containers[0]?.logs?.usedBytes).toBeGreaterThan(0);
    // The same document through the API server's nodes/proxy, as `kubectl get --raw` fetches it.
    const raw = await kubectl([
      'get',
      '--raw',
      `/api/v1/nodes/${nodeName}/proxy/stats/summary?only_cpu_and_memory=true`,
    ]);
    expect(raw.code).toBe(0);
    const slim = JSON.parse(raw.stdout) as Summary;
    expect(slim.node.nodeName).toBe(nodeName);
    expect(slim.node.fs).toBeUndefined();
    const app = slim.pods.find((p) => p.podRef.name === 'talker')?.containers.find((c) => c.name === 'app');
    expect(app?.memory?.workingSetBytes).toBeGreaterThan(0);
  });

  it('kubectl logs shows the container output, --tail limits it, -f keeps streaming', async () => {
    const all = await kubectl(['logs', 'talker', '-c', 'app']);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines[0]).toBe('first-line');
    expect(lines[1]).toBe('tick-1');
    const tail = await kubectl(['logs', 'talker', '-c', 'app', '--tail=1']);
    expect(tail.stdout.trim()).toMatch(/^tick-\d+$/);
    // Follow for a while: lines written after kubectl started must arrive.
    const child = spawn(
      'kubectl',
      [
        '--kubeconfig',
        kubeconfig,
        '--cache-dir',
        join(dir, 'cache'),
        'logs',
        '-f',
        'talker',
        '-c',
        'app',
        '--tail=1',
      ],
      { env: { ...process.env, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.add(child);
    let followed = '';
    child.stdout.on('data', (c) => {
      followed += c;
    });
    try {
      await waitFor(
        'followed lines',
        () => (followed.trim().split('\n').length >= 4 ? true : undefined),
        10_000,
      );
    } finally {
      child.kill('SIGKILL');
      children.delete(child);
    }
    const ticks = followed
      .trim()
      .split('\n')
      .map((l) => Number(l.replace('tick-', '')));
    expect(ticks.every((n, i) => i === 0 || n === (ticks[i - 1] as number) + 1)).toBe(true);
  });

  it('kubectl exec runs a command in the container (WebSocket v5, translated to SPDY)', async () => {
    const hostname = await kubectl(['exec', 'talker', '-c', 'app', '--', 'cat', '/etc/hostname']);
    expect(hostname.stderr).toBe('');
    expect(hostname).toMatchObject({ code: 0, stdout: 'talker\n' });
    // kubectl spoke WebSocket v5 to the API server, which spoke SPDY (v4.channel.k8s.io) to our
    // kubelet: what both servers negotiated, not any kubectl version's log wording.
    expect(api.podStreams.filter((s) => s.subresource === 'exec')).toEqual([
      {
        subresource: 'exec',
        namespace: 'default',
        pod: 'talker',
        transport: 'websocket',
        clientProtocol: 'v5.channel.k8s.io',
        kubeletProtocol: 'v4.channel.k8s.io',
      },
    ]);
    const echoed = await kubectl(['exec', '-i', 'talker', '-c', 'app', '--', 'cat'], 'hi\nthere\n');
    expect(echoed).toMatchObject({ code: 0, stdout: 'hi\nthere\n' });
    const failing = await kubectl(['exec', 'talker', '-c', 'app', '--', 'sh', '-c', 'echo oops >&2; exit 7']);
    expect(failing.code).toBe(7);
    expect(failing.stderr).toContain('oops');
    // WebSocket (v4.channel.k8s.io) straight to the kubelet, proxied to containerd's streaming server.
    const ws = await collectStream(
      await openStream(
        `http://127.0.0.1:${plainServer.port}/exec/default/talker/app?command=sh&command=-c&command=echo%20ws-$((40%2B2))&output=1&error=1`,
      ),
    );
    expect(ws).toMatchObject({ exitCode: 0, stdout: 'ws-42\n', stderr: '' });
  });

  it('kubectl attach streams the running process output', async () => {
    const child = spawn(
      'kubectl',
      ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), 'attach', 'talker', '-c', 'app'],
      { env: { ...process.env, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.add(child);
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    try {
      // Only output produced after attaching arrives: two consecutive fresh ticks.
      const ticks = await waitFor(
        'attached output',
        () => {
          const seen = [...out.matchAll(/tick-(\d+)/g)].map((m) => Number(m[1]));
          return seen.length >= 2 ? seen : undefined;
        },
        10_000,
      );
      expect(ticks[1]).toBe((ticks[0] as number) + 1);
    } finally {
      child.kill('SIGKILL');
      children.delete(child);
    }
  });

  it('kubectl port-forward reaches a port inside the pod', async () => {
    const child = spawn(
      'kubectl',
      [
        '--kubeconfig',
        kubeconfig,
        '--cache-dir',
        join(dir, 'cache'),
        'port-forward',
        'pod/talker',
        '--address=127.0.0.1',
        ':8080',
      ],
      { env: { ...process.env, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.add(child);
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      out += c;
    });
    try {
      const port = await waitFor('the forwarding port', () => {
        const match = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out);
        return match ? Number(match[1]) : undefined;
      }).catch((error) => {
        throw new Error(`${(error as Error).message}; kubectl said: ${out}`);
      });
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port });
        let text = '';
        socket.on('data', (c) => {
          text += c;
        });
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
        setTimeout(() => {
          socket.destroy();
          resolve(text);
        }, 5000);
      });
      expect(reply).toBe('pf-hello\n');
      // SPDY tunnelled through the WebSocket, as kube-apiserver carries it: no fallback to SPDY.
      expect(api.podStreams.filter((s) => s.subresource === 'portforward')).toEqual([
        {
          subresource: 'portforward',
          namespace: 'default',
          pod: 'talker',
          transport: 'websocket',
          clientProtocol: 'SPDY/3.1+portforward.k8s.io',
          kubeletProtocol: 'portforward.k8s.io',
        },
      ]);
    } finally {
      child.kill('SIGKILL');
      children.delete(child);
    }
  });
});
