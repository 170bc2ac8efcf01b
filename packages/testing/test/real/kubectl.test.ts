import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type ApiServer, startApiServer } from '../../src/index';
import { serveSpdyEcho } from '../fixtures/spdy-echo';

const run = promisify(execFile);

describe('the real kubectl binary against the in-process API server', { timeout: 60_000 }, () => {
  let server: ApiServer;
  let dir: string;
  let kubeconfig: string;

  async function kubectl(...args: string[]): Promise<string> {
    const { stdout } = await run(
      'kubectl',
      ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args],
      {
        env: { ...process.env, HOME: dir },
        timeout: 30_000,
      },
    );
    return stdout;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `na-kubectl-${process.pid}-`));
    kubeconfig = join(dir, 'kubeconfig');
    server = await startApiServer();
    server.writeKubeconfig(kubeconfig);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('discovers resources and prints tables', async () => {
    const resources = await kubectl('api-resources', '-o', 'name');
    expect(resources.split('\n')).toEqual(
      expect.arrayContaining(['pods', 'endpointslices.discovery.k8s.io', 'leases.coordination.k8s.io']),
    );
    const ns = await kubectl('get', 'namespaces');
    expect(ns).toMatch(/^NAME\s+STATUS\s+AGE/);
    expect(ns).toMatch(/kube-system\s+Active/);
    const pods = server.resource('v1', 'pods');
    server.registry.create(pods, 'default', {
      metadata: { name: 'shown' },
      spec: { nodeName: 'node-9', containers: [{ name: 'c', image: 'i:1' }] },
    });
    const wide = await kubectl('get', 'pods', '-o', 'wide');
    expect(wide).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    expect(wide).toMatch(/shown\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+node-9/);
    server.registry.delete(pods, 'default', 'shown', { gracePeriodSeconds: 0 });
  });

  it('applies (create, then client-side apply patch), gets, patches and deletes', async () => {
    const manifest = join(dir, 'svc.yaml');
    const yaml = (target: number) =>
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  selector: {app: web}\n  ports:\n  - name: http\n    port: 80\n    targetPort: ${target}\n`;
    writeFileSync(manifest, yaml(8080));
    expect(await kubectl('apply', '-f', manifest)).toContain('service/web created');
    writeFileSync(manifest, yaml(9090));
    expect(await kubectl('apply', '-f', manifest)).toContain('service/web configured');
    const svc = JSON.parse(await kubectl('get', 'service', 'web', '-o', 'json'));
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 80, protocol: 'TCP', targetPort: 9090 }]);
    expect(svc.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain('9090');

    await kubectl('patch', 'service', 'web', '-p', '{"metadata":{"labels":{"tier":"fe"}}}');
    await kubectl('patch', 'service', 'web', '--type=merge', '-p', '{"spec":{"selector":{"app":"web2"}}}');
    await kubectl(
      'patch',
      'service',
      'web',
      '--type=json',
      '-p',
      '[{"op":"add","path":"/metadata/labels/z","value":"1"}]',
    );
    const services = server.resource('v1', 'services');
    const stored = server.registry.get(services, 'default', 'web');
    expect(stored.metadata.labels).toEqual({ app: 'web', tier: 'fe', z: '1' });
    expect((stored.spec as { selector: unknown }).selector).toEqual({ app: 'web2' });

    const ssa = join(dir, 'cm.yaml');
    writeFileSync(ssa, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: "1"\n');
    expect(await kubectl('apply', '--server-side', '-f', ssa)).toContain('serverside-applied');
    expect(await kubectl('delete', 'service', 'web')).toContain('deleted');
    expect(server.registry.find(services, 'default', 'web')).toBeUndefined();
  });

  it('creates from a file and rejects invalid objects with the field named', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: Bad_Name\nspec:\n  containers: []\n');
    const err = await kubectl('create', '-f', bad).catch((e: { stderr: string }) => e.stderr);
    expect(err).toContain('metadata.name');
    expect(err).toContain('spec.containers');
    const good = join(dir, 'pod.yaml');
    writeFileSync(
      good,
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p1\nspec:\n  nodeName: n1\n  containers:\n  - name: c\n    image: busybox:1\n',
    );
    expect(await kubectl('create', '-f', good)).toContain('pod/p1 created');
  });

  it('resizes a pod in place with patch --subresource resize, and shows it with get -o yaml', async () => {
    // The resize-v1.36 recording's node and Guaranteed pod, running with its resources reported.
    server.registry.create(server.resource('v1', 'nodes'), undefined, {
      metadata: { name: 'n1', labels: { 'kubernetes.io/os': 'linux' } },
      status: {
        capacity: { cpu: '2', memory: '24683072Ki' },
        allocatable: { cpu: '2', memory: '24683072Ki' },
      },
    });
    const pods = server.resource('v1', 'pods');
    const resources = { requests: { cpu: '200m', memory: '64Mi' }, limits: { cpu: '200m', memory: '64Mi' } };
    server.registry.create(pods, 'default', {
      metadata: { name: 'rs-guaranteed' },
      spec: {
        nodeName: 'n1',
        containers: [
          {
            name: 'c',
            image: 'localhost/busybox:1',
            resizePolicy: [
              { resourceName: 'cpu', restartPolicy: 'NotRequired' },
              { resourceName: 'memory', restartPolicy: 'NotRequired' },
            ],
            resources,
          },
        ],
      },
    });
    const created = server.registry.get(pods, 'default', 'rs-guaranteed');
    server.registry.update(
      pods,
      'default',
      'rs-guaranteed',
      {
        ...created,
        status: {
          phase: 'Running',
          observedGeneration: 1,
          containerStatuses: [
            { name: 'c', state: { running: { startedAt: '2026-01-01T00:00:00Z' } }, resources, ready: true },
          ],
        },
      },
      'status',
    );
    const body = (cpu: string, memory = '64Mi') =>
      JSON.stringify({
        spec: {
          containers: [{ name: 'c', resources: { requests: { cpu, memory }, limits: { cpu, memory } } }],
        },
      });
    const failure = (...args: string[]) =>
      kubectl(...args).then(
        (out) => `unexpected success: ${out}`,
        (e: { stderr: string }) => e.stderr,
      );

    expect(
      await kubectl('patch', 'pod', 'rs-guaranteed', '--subresource', 'resize', '-p', body('300m')),
    ).toContain('pod/rs-guaranteed patched');
    const pod = parseYaml(await kubectl('get', 'pod', 'rs-guaranteed', '-o', 'yaml'));
    expect(pod.metadata.generation).toBe(2);
    expect(pod.status.observedGeneration).toBe(1);
    expect(pod.spec.containers[0].resources).toEqual({
      limits: { cpu: '300m', memory: '64Mi' },
      requests: { cpu: '300m', memory: '64Mi' },
    });
    expect(pod.status.qosClass).toBe('Guaranteed');

    // More CPU than the node has: the admission plugin's 403, as kubectl prints it.
    expect(
      await failure('patch', 'pod', 'rs-guaranteed', '--subresource', 'resize', '-p', body('3')),
    ).toContain(
      `Error from server (Forbidden): pods "rs-guaranteed" is forbidden: node didn't have enough allocatable resources: cpu, requested: 3000, allocatable: 2000`,
    );
    // A merge patch replaces the containers list: kubectl lists every cause of the 422.
    const merge = await failure(
      'patch',
      'pod',
      'rs-guaranteed',
      '--subresource',
      'resize',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ spec: { containers: [{ name: 'c', resources: { requests: { cpu: '400m' } } }] } }),
    );
    expect(merge).toContain('The Pod "rs-guaranteed" is invalid:');
    expect(merge).toContain(
      'spec: Invalid value: "Guaranteed": Pod QOS Class may not change as a result of resizing',
    );
    expect(merge).toContain(
      'spec.containers[0].resources.requests: Forbidden: resource requests cannot be removed',
    );
    expect(merge).toContain(
      'spec.containers[0].resources.limits: Forbidden: resource limits cannot be removed',
    );
    expect(merge).toContain('spec: Forbidden: only cpu and memory resources are mutable');
    // The default (strategic) and JSON patches work.
    await kubectl(
      'patch',
      'pod',
      'rs-guaranteed',
      '--subresource',
      'resize',
      '--type',
      'json',
      '-p',
      '[{"op":"replace","path":"/spec/containers/0/resources/requests/cpu","value":"250m"},{"op":"replace","path":"/spec/containers/0/resources/limits/cpu","value":"250m"}]',
    );
    const after = parseYaml(await kubectl('get', 'pod', 'rs-guaranteed', '-o', 'yaml'));
    expect(after.metadata.generation).toBe(3);
    expect(after.spec.containers[0].resources.limits.cpu).toBe('250m');
  });

  it('runs the imperative generators, which send protobuf bodies', async () => {
    expect(await kubectl('create', 'namespace', 'gen')).toContain('namespace/gen created');
    await kubectl('create', 'configmap', 'cfg', '-n', 'gen', '--from-literal=k=v');
    await kubectl('create', 'secret', 'generic', 'sec', '-n', 'gen', '--from-literal=pw=s3cret');
    await kubectl('create', 'serviceaccount', 'robot', '-n', 'gen');
    await kubectl('create', 'service', 'nodeport', 'np', '-n', 'gen', '--tcp=81:8081', '--node-port=30081');
    const get = (apiVersion: string, plural: string, name: string) =>
      server.registry.get(server.resource(apiVersion, plural), 'gen', name);
    expect(get('v1', 'configmaps', 'cfg').data).toEqual({ k: 'v' });
    expect(get('v1', 'secrets', 'sec')).toMatchObject({
      type: 'Opaque',
      data: { pw: Buffer.from('s3cret').toString('base64') },
    });
    expect(get('v1', 'serviceaccounts', 'robot').metadata.namespace).toBe('gen');
    const np = get('v1', 'services', 'np');
    expect(np.metadata.labels).toEqual({ app: 'np' });
    expect(np.spec).toMatchObject({
      type: 'NodePort',
      selector: { app: 'np' },
      ports: [{ name: '81-8081', protocol: 'TCP', port: 81, targetPort: 8081, nodePort: 30081 }],
    });
  });

  it('works over HTTPS with the kubeconfig carrying the CA', async () => {
    const secure = await startApiServer({ tls: true });
    try {
      const path = join(dir, 'kubeconfig-tls');
      secure.writeKubeconfig(path);
      const { stdout } = await run(
        'kubectl',
        ['--kubeconfig', path, '--cache-dir', join(dir, 'cache-tls'), 'get', 'ns', '-o', 'name'],
        {
          env: { ...process.env, HOME: dir },
          timeout: 30_000,
        },
      );
      expect(stdout).toContain('namespace/kube-node-lease');
    } finally {
      await secure.close();
    }
  });

  it('watches (-w) and sees objects created afterwards', async () => {
    const child = spawn(
      'kubectl',
      [
        '--kubeconfig',
        kubeconfig,
        '--cache-dir',
        join(dir, 'cache'),
        'get',
        'leases',
        '-n',
        'kube-node-lease',
        '-w',
        '-o',
        'name',
      ],
      {
        env: { ...process.env, HOME: dir },
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`no watch started; output: ${out}`)), 15_000);
        const poll = setInterval(() => {
          if (server.openWatches > 0) {
            clearInterval(poll);
            clearTimeout(deadline);
            resolve();
          }
        }, 20);
      });
      const leases = server.resource('coordination.k8s.io/v1', 'leases');
      server.registry.create(leases, 'kube-node-lease', {
        metadata: { name: 'node-7' },
        spec: { holderIdentity: 'node-7' },
      });
      await new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`watch output: ${out}`)), 15_000);
        const poll = setInterval(() => {
          if (out.includes('lease.coordination.k8s.io/node-7')) {
            clearInterval(poll);
            clearTimeout(deadline);
            resolve();
          }
        }, 20);
      });
    } finally {
      child.kill();
    }
    expect(out).toContain('node-7');
  });
});

describe('the real kubectl against the HTTPS server, which it speaks HTTP/2 to', { timeout: 60_000 }, () => {
  let server: ApiServer;
  let kubelet: Server;
  let dir: string;
  let kubeconfig: string;
  const kubeletSockets = new Set<Socket>();
  /** Each request the API server served: its HTTP version and path. */
  const served: { version: string; path: string }[] = [];

  function kubectl(args: string[], stdin = ''): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        'kubectl',
        ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args],
        {
          env: { ...process.env, HOME: dir },
          timeout: 30_000,
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0
          ? resolve(stdout)
          : reject(new Error(`kubectl ${args.join(' ')}: exit ${code}: ${stderr}`)),
      );
      child.stdin.end(stdin);
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `na-kubectl-h2-${process.pid}-`));
    kubeconfig = join(dir, 'kubeconfig');
    // A kubelet stand-in: logs answer two lines (the second later when followed), exec echoes stdin over SPDY.
    kubelet = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('line one\n');
      if (req.url?.includes('follow=true')) setTimeout(() => res.end('line two\n'), 100);
      else res.end();
    });
    kubelet.on('upgrade', (_req, socket: Socket) => {
      kubeletSockets.add(socket);
      serveSpdyEcho(socket, []);
    });
    await new Promise<void>((resolve) => kubelet.listen(0, '127.0.0.1', resolve));
    server = await startApiServer({ tls: true, kubelet: { scheme: 'http' } });
    server.observeRequests((request) =>
      served.push({ version: request.httpVersion, path: request.url ?? '' }),
    );
    server.writeKubeconfig(kubeconfig);
    server.registry.create(server.resource('v1', 'nodes'), undefined, {
      metadata: { name: 'node-k' },
      status: {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: (kubelet.address() as AddressInfo).port } },
      },
    });
    server.registry.create(server.resource('v1', 'pods'), 'default', {
      metadata: { name: 'web' },
      spec: { nodeName: 'node-k', containers: [{ name: 'app', image: 'i:1' }] },
    });
  });
  afterAll(async () => {
    await server?.close();
    for (const socket of kubeletSockets) socket.destroy();
    await new Promise<void>((resolve) => kubelet.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('gets over HTTP/2', async () => {
    expect(await kubectl(['get', 'ns', '-o', 'name'])).toContain('namespace/kube-node-lease');
    expect(served.filter((r) => r.path.startsWith('/api/v1/namespaces')).map((r) => r.version)).toContain(
      '2.0',
    );
    expect(served.every((r) => r.version === '2.0')).toBe(true);
  });

  it('streams logs, followed too, on an HTTP/2 stream', async () => {
    expect(await kubectl(['logs', 'web'])).toBe('line one\n');
    expect(await kubectl(['logs', '-f', 'web'])).toBe('line one\nline two\n');
    const logs = served.filter((r) => r.path.startsWith('/api/v1/namespaces/default/pods/web/log'));
    expect(logs.map((r) => r.version)).toEqual(['2.0', '2.0']);
  });

  it('execs over an HTTP/1.1 upgrade beside the HTTP/2 connection', async () => {
    expect(await kubectl(['exec', '-i', 'web', '--', 'spdy-echo'], 'hello h2\n')).toBe('HELLO H2\n');
    expect(server.podStreams.at(-1)).toMatchObject({ subresource: 'exec', pod: 'web' });
  });
});
