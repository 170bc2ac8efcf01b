import { type ChildProcess, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { ContainerState } from '@nodeagent/cri-client/types';
import { loadClientCert } from '@nodeagent/kubelet/certificates';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, fakeNodeFlags, freePorts, killChild, node, waitFor } from './binary-harness';

const NODE = 'cp-1';
const IMAGE = 'registry.k8s.io/kube-apiserver:v1.36.3';
/** The cluster CA an API server's CSR signer issues from. */
type SigningCA = NonNullable<ApiServer['certificates']>['ca'];

/**
 * `kubeadm init` as the kubelet sees it: kubelet.conf with the node's client certificate inline
 * and a server that does not answer yet, --bootstrap-kubeconfig naming a file that does not exist,
 * rotateCertificates on, the control plane as a static pod. The static pod runs at once and the
 * inline pair is in the cert dir before any API server exists; once the API server answers, the
 * node registers as itself, the mirror pod appears and the client certificate is rotated with
 * kubelet.conf's credentials.
 */
describe('nodeagent-kubelet under kubeadm init (control plane as static pods)', () => {
  let dir: string;
  let ca: SigningCA;
  let seedPem: string;
  let fake: FakeRuntime;
  let cri: CriClient;
  let api: ApiServer | undefined;
  let child: ChildProcess | undefined;
  let output = '';
  const requests: { user: string; method: string; path: string }[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-kubeadm-init-${process.pid}-`));
    // The cluster CA and the node's certificate kubeadm would have made: from a first API server
    // (its CSR signer), which is then shut down; the real one comes up later with the same CA.
    const first = await startApiServer({ tls: true });
    try {
      ca = first.certificates?.ca as SigningCA;
      first.writeBootstrapKubeconfig(join(dir, 'seed-bootstrap.conf'), first.createBootstrapToken());
      await loadClientCert({
        kubeconfigPath: join(dir, 'seed.conf'),
        bootstrapKubeconfigPath: join(dir, 'seed-bootstrap.conf'),
        certDir: join(dir, 'seed'),
        nodeName: NODE,
      });
      seedPem = await readFile(join(dir, 'seed', 'kubelet-client-current.pem'), 'utf8');
    } finally {
      await first.close();
    }
    fake = await FakeRuntime.start({ images: [{ ref: IMAGE }, { ref: 'registry.k8s.io/pause:3.10.1' }] });
    cri = await createCriClient({ endpoint: fake.endpoint });
  });

  afterAll(async () => {
    await killChild(child);
    cri?.close();
    await fake?.stop();
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the static pod with no API server, then registers, mirrors it and rotates the inline certificate', async () => {
    const seedCert = new X509Certificate(seedPem);
    const keyPem = seedPem.slice(seedPem.indexOf('-----BEGIN', seedPem.lastIndexOf('-----END CERTIFICATE')));
    // Both chosen at once: the API server's port stays closed for a while, so a second pick could be it.
    const [apiPort, kubeletPort] = await freePorts(2);
    const kubeletConf = join(dir, 'kubelet.conf');
    await writeFile(
      kubeletConf,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'kubernetes',
            cluster: { server: `https://127.0.0.1:${apiPort}`, 'insecure-skip-tls-verify': true },
          },
        ],
        users: [
          {
            name: `system:node:${NODE}`,
            user: {
              'client-certificate-data': Buffer.from(seedCert.toString()).toString('base64'),
              'client-key-data': Buffer.from(keyPem).toString('base64'),
            },
          },
        ],
        contexts: [
          {
            name: `system:node:${NODE}@kubernetes`,
            context: { cluster: 'kubernetes', user: `system:node:${NODE}` },
          },
        ],
        'current-context': `system:node:${NODE}@kubernetes`,
      }),
      { mode: 0o600 },
    );
    const manifests = join(dir, 'manifests');
    await mkdir(manifests);
    await writeFile(
      join(manifests, 'kube-apiserver.yaml'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'kube-apiserver',
          namespace: 'kube-system',
          labels: { component: 'kube-apiserver' },
        },
        spec: {
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          containers: [{ name: 'kube-apiserver', image: IMAGE, command: ['sh', '-c', 'sleep 3600'] }],
        },
      }),
    );
    await writeFile(
      join(dir, 'config.yaml'),
      [
        'apiVersion: kubelet.config.k8s.io/v1beta1',
        'kind: KubeletConfiguration',
        `staticPodPath: ${manifests}`,
        `podLogsDir: ${join(dir, 'logs')}`,
        `volumePluginDir: ${join(dir, 'volume-plugins')}`,
        'address: 127.0.0.1',
        'rotateCertificates: true',
        'enforceNodeAllocatable: []',
        'nodeStatusUpdateFrequency: 1s',
      ].join('\n'),
    );
    const certDir = join(dir, 'pki');
    child = spawn(
      node,
      [
        cli,
        `--config=${join(dir, 'config.yaml')}`,
        `--kubeconfig=${kubeletConf}`,
        `--bootstrap-kubeconfig=${join(dir, 'bootstrap-kubelet.conf')}`,
        ...fakeNodeFlags({
          nodeName: NODE,
          rootDir: join(dir, 'root'),
          endpoint: fake.endpoint,
          port: kubeletPort,
          certDir,
        }),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const withOutput = (error: Error) => {
      throw new Error(`${error.message}; kubelet output:\n${output}`);
    };

    // 1. No API server: the static pod's container runs, and the inline pair is in the cert dir.
    await waitFor(
      'static pod running without an API server',
      async () =>
        (await cri.listContainers({})).containers.some(
          (c) =>
            c.labels['io.kubernetes.pod.name'] === `kube-apiserver-${NODE}` &&
            c.state === ContainerState.CONTAINER_RUNNING,
        ),
      120_000,
    ).catch(withOutput);
    const stored = await waitFor(
      'inline certificate stored',
      () => readFile(join(certDir, 'kubelet-client-current.pem'), 'utf8'),
      30_000,
    ).catch(withOutput);
    expect(new X509Certificate(stored).serialNumber).toBe(seedCert.serialNumber);

    // 2. The API server answers (same cluster CA): the node registers as itself, the mirror pod
    // shows the static pod Running, and the client certificate is rotated with kubelet.conf's.
    api = await startApiServer({
      tls: true,
      port: apiPort,
      certificates: { ca },
      audit: (user, method, path) => requests.push({ user: user.username, method, path }),
    });
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    await waitFor(
      'mirror pod Running',
      async () =>
        (await core.readNamespacedPod({ name: `kube-apiserver-${NODE}`, namespace: 'kube-system' })).status
          ?.phase === 'Running',
      120_000,
    ).catch(withOutput);
    const rotated = await waitFor(
      'client certificate rotated',
      async () => {
        const cert = new X509Certificate(await readFile(join(certDir, 'kubelet-client-current.pem'), 'utf8'));
        return cert.serialNumber !== seedCert.serialNumber ? cert : undefined;
      },
      120_000,
    ).catch(withOutput);
    expect(rotated.subject.split('\n').sort()).toEqual([`CN=system:node:${NODE}`, 'O=system:nodes']);
    expect(requests.find((r) => r.method === 'POST' && r.path === '/api/v1/nodes')?.user).toBe(
      `system:node:${NODE}`,
    );
    const csrPosts = requests.filter(
      (r) => r.method === 'POST' && r.path.includes('certificatesigningrequests'),
    );
    expect(csrPosts.map((r) => r.user)).toEqual([`system:node:${NODE}`]);
    expect(output).not.toMatch(/ENOENT|bootstrap-kubelet\.conf/);
  }, 400_000);
});
