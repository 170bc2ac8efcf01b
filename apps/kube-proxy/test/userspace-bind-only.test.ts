import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiServer, kubeconfigYaml, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindOnlyDaemonArgs, cli, until } from './daemon-process';

// The real binary (src/cli.ts through tsx) in userspace bind-only mode: no kernel rules, so no
// namespace or root is needed. The Service's cluster IP is a random 127.x address (local on
// Linux), the backend an echo server on 127.0.0.1; traffic to the cluster IP must reach it.

let api: ApiServer;
let dir: string;
let backend: Server;
let backendPort: number;
let metricsPort: number;
let daemon: ChildProcess;
let daemonExit: Promise<number | null>;
let stderr = '';
const clusterIP = `127.${randomInt(100, 200)}.${randomInt(1, 250)}.${randomInt(1, 250)}`;
const servicePort = randomInt(20_000, 30_000);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Sends `text` to host:port and resolves with the reply (empty string when refused). */
function roundTrip(host: string, port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const c = connect(port, host);
    let got = '';
    c.setTimeout(2000, () => c.destroy());
    c.on('connect', () => c.write(text));
    c.on('data', (b) => {
      got += b.toString();
      if (got.length >= text.length) c.end();
    });
    c.on('error', () => resolve(''));
    c.on('close', () => resolve(got));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `na-kp-userspace-${process.pid}-`));
  api = await startApiServer();
  backend = createServer((c) => c.pipe(c));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  backendPort = (backend.address() as { port: number }).port;
  metricsPort = await freePort();
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml(api.url));
  // kube-proxy reads its Node's addresses at start (and would wait ~31 s for a missing one).
  api.registry.create(api.resource('v1', 'nodes'), undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-a' },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] },
  });
  daemon = spawn(
    process.execPath,
    [
      cli,
      ...bindOnlyDaemonArgs(kubeconfig, '', `127.0.0.1:${metricsPort}`),
      '--iptables-min-sync-period',
      '100ms',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  daemon.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  daemonExit = new Promise((resolve) => daemon.on('exit', (code) => resolve(code)));
}, 60_000);

afterAll(async () => {
  if (daemon && daemon.exitCode === null) daemon.kill('SIGKILL');
  await new Promise<void>((r) => (backend ? backend.close(() => r()) : r()));
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('nodeagent-kube-proxy --proxy-mode userspace --userspace-bind-only', { timeout: 180_000 }, () => {
  it('proxies a Service cluster IP to its endpoint and reports the mode', async () => {
    api.registry.create(api.resource('v1', 'services'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'echo', namespace: 'default' },
      spec: { clusterIP, ports: [{ name: 'tcp', port: servicePort, protocol: 'TCP' }] },
    });
    api.registry.create(api.resource('discovery.k8s.io/v1', 'endpointslices'), 'default', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'echo-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'echo' } },
      addressType: 'IPv4',
      ports: [{ name: 'tcp', port: backendPort, protocol: 'TCP' }],
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
    });
    const reply = await until(
      () => roundTrip(clusterIP, servicePort, 'hello through userspace'),
      (r) => r === 'hello through userspace',
    );
    expect(reply, stderr).toBe('hello through userspace');
    const mode = await fetch(`http://127.0.0.1:${metricsPort}/proxyMode`);
    expect(await mode.text()).toBe('userspace');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/kubeproxy_userspace_connections_total\{[^}]*\} [1-9]/);
    // component-base's series, as on upstream's /metrics: the build, and the daemon's own API
    // requests (its Node read, the informers' lists and watches) counted by the API client.
    expect(metrics).toMatch(/^kubernetes_build_info\{[^}]*git_version="v1\.36\.3"[^}]*\} 1$/m);
    const host = new URL(api.url).host;
    expect(metrics).toContain(`rest_client_requests_total{code="200",host="${host}",method="GET"}`);
    expect(metrics).toContain(`rest_client_request_duration_seconds_count{host="${host}",verb="GET"}`);
  });

  it('stops listening when the Service is deleted, and exits 0 on SIGTERM', async () => {
    api.registry.delete(api.resource('v1', 'services'), 'default', 'echo');
    const reply = await until(
      () => roundTrip(clusterIP, servicePort, 'still there?'),
      (r) => r === '',
    );
    expect(reply).toBe('');
    daemon.kill('SIGTERM');
    expect(await daemonExit).toBe(0);
  });
});
