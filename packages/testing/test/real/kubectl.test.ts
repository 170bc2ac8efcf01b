import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../../src/index';

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
