import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { type DiscoveryFront, startDiscoveryFront } from './discovery-front';
import { validateManifest } from './kubernetes-schema';
import { sharedSeaExecutable } from './shared-sea';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '..', '..');
const manifestPath = join(repo, 'deploy', 'kube-proxy-daemonset.yaml');

// biome-ignore lint/suspicious/noExplicitAny: decoded YAML is checked field by field below
type Obj = any;
const objects: Obj[] = parseAllDocuments(readFileSync(manifestPath, 'utf8')).map((d) => d.toJS());
const byKind = (kind: string): Obj => objects.find((o) => o.kind === kind);

describe('deploy/kube-proxy-daemonset.yaml', { timeout: 120_000 }, () => {
  let server: ApiServer;
  let front: DiscoveryFront;
  const dir = mkdtempSync(join(tmpdir(), `na-deploy-${process.pid}-`));
  const kubeconfig = join(dir, 'kubeconfig');

  beforeAll(async () => {
    server = await startApiServer();
    front = await startDiscoveryFront(server.url);
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{ name: t, cluster: { server: '${front.url}' } }]`,
        'users: [{ name: t, user: {} }]',
        'contexts: [{ name: t, context: { cluster: t, user: t } }]',
        'current-context: t',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    await front?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is accepted by kubectl apply --dry-run=client against the in-process API server', async () => {
    // --validate=false: kubectl's client-side validation wants the protobuf OpenAPI document, which
    // the in-process server does not serve; the schema test below covers validation instead.
    const { stdout } = await run(
      'kubectl',
      [
        '--kubeconfig',
        kubeconfig,
        'apply',
        '--dry-run=client',
        '--validate=false',
        '-f',
        manifestPath,
        '-o',
        'name',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(stdout.trim().split('\n').sort()).toEqual([
      'clusterrole.rbac.authorization.k8s.io/nodeagent-kube-proxy',
      'clusterrolebinding.rbac.authorization.k8s.io/nodeagent-kube-proxy',
      'configmap/nodeagent-kube-proxy',
      'daemonset.apps/nodeagent-kube-proxy',
      'serviceaccount/nodeagent-kube-proxy',
    ]);
    // kubectl looked each object up (GET → 404, so it would create), and a client dry run creates nothing.
    expect(front.extraRequests).toContain(
      'GET /apis/apps/v1/namespaces/kube-system/daemonsets/nodeagent-kube-proxy',
    );
    const cms = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'configmaps', '-A', '-o', 'name'], {
      encoding: 'utf8',
    });
    expect(cms.stdout).not.toContain('nodeagent-kube-proxy');
  });

  it('kubectl rejects a manifest whose kind the cluster does not know (the check can fail)', async () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(manifestPath, 'utf8').replace('kind: DaemonSet', 'kind: DaemonSett'));
    await expect(
      run(
        'kubectl',
        ['--kubeconfig', kubeconfig, 'apply', '--dry-run=client', '--validate=false', '-f', broken],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      ),
    ).rejects.toMatchObject({ stderr: expect.stringContaining('DaemonSett') });
  });

  it('every object validates against the Kubernetes schemas', () => {
    expect(objects.map((o) => o.kind)).toEqual([
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'DaemonSet',
    ]);
    for (const o of objects) expect(validateManifest(o).map((e) => e.message)).toEqual([]);
  });

  it('schema validation catches a misspelt field and a wrong type', () => {
    const ds = structuredClone(byKind('DaemonSet'));
    ds.spec.template.spec.hostNetwrk = true;
    ds.spec.template.spec.containers[0].ports[0].containerPort = '10256';
    const problems = validateManifest(ds).map((e) => e.field);
    expect(problems).toEqual([
      'DaemonSet.spec.template.spec.containers[0].ports[0].containerPort',
      'DaemonSet.spec.template.spec.hostNetwrk',
    ]);
  });

  // Checked by the real program, the executable the DaemonSet's image carries (the run's build,
  // shared-sea.ts; a separate process: importing the app here would make tools/ a build dependent
  // of the packages it deploys): it must load the file and echo the resolved configuration back,
  // and reject a broken copy naming the field. (Started through tsx from source instead, each of
  // the two starts cost ~3 CPU-s; the other shipping files build the executable anyway.)
  let executable: string;
  beforeAll(async () => {
    executable = (await sharedSeaExecutable('nodeagent-kube-proxy')).path;
  }, 300_000);
  const kubeProxyCli = (args: string[]) =>
    run(executable, args, {
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });

  it('the ConfigMap carries a KubeProxyConfiguration nodeagent-kube-proxy accepts', async () => {
    const configFile = join(dir, 'config.conf');
    const resolvedFile = join(dir, 'resolved.yaml');
    writeFileSync(configFile, byKind('ConfigMap').data['config.conf']);
    await kubeProxyCli(['--config', configFile, '--write-config-to', resolvedFile]);
    const resolved = parseAllDocuments(readFileSync(resolvedFile, 'utf8'))[0]?.toJS();
    expect(resolved.kind).toBe('KubeProxyConfiguration');
    expect(resolved.healthzBindAddress).toBe('0.0.0.0:10256');
    expect(resolved.mode).toBe('iptables');
    expect(resolved.clientConnection.kubeconfig).toBe('');

    writeFileSync(configFile, `${byKind('ConfigMap').data['config.conf']}iptablesTypo: true\n`);
    await expect(
      kubeProxyCli(['--config', configFile, '--write-config-to', resolvedFile]),
    ).rejects.toMatchObject({
      stderr: expect.stringContaining('iptablesTypo'),
    });

    const mount = byKind('DaemonSet').spec.template.spec.containers[0].volumeMounts.find(
      (m: Obj) => m.name === 'config',
    );
    const arg = byKind('DaemonSet').spec.template.spec.containers[0].command.find((a: string) =>
      a.startsWith('--config='),
    );
    expect(arg).toBe(`--config=${mount.mountPath}/config.conf`);
  });

  it('RBAC grants exactly list/watch on what the proxier watches, bound to the pod service account', () => {
    const rules = byKind('ClusterRole').rules.flatMap((r: Obj) =>
      r.apiGroups.flatMap((g: string) =>
        r.resources.map((res: string) => `${g}/${res}:${[...r.verbs].sort()}`),
      ),
    );
    expect(rules.sort()).toEqual([
      '/nodes:list,watch',
      '/services:list,watch',
      'discovery.k8s.io/endpointslices:list,watch',
    ]);
    const binding = byKind('ClusterRoleBinding');
    const sa = byKind('ServiceAccount');
    expect(binding.roleRef.name).toBe(byKind('ClusterRole').metadata.name);
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace },
    ]);
    expect(byKind('DaemonSet').spec.template.spec.serviceAccountName).toBe(sa.metadata.name);
  });

  it('DaemonSet: host network, probes on :10256, privileged only on the proxy container', () => {
    const pod = byKind('DaemonSet').spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.initContainers ?? []).toEqual([]);
    expect(pod.containers).toHaveLength(1);
    const [c] = pod.containers;
    expect(c.livenessProbe.httpGet).toMatchObject({ path: '/livez', port: 10256 });
    expect(c.readinessProbe.httpGet).toMatchObject({ path: '/healthz', port: 10256 });
    expect(c.securityContext.privileged).toBe(true);
    expect(pod.securityContext?.privileged).toBeUndefined();
    const selector = byKind('DaemonSet').spec.selector.matchLabels;
    for (const [k, v] of Object.entries(selector))
      expect(byKind('DaemonSet').spec.template.metadata.labels[k]).toBe(v);
  });
});
