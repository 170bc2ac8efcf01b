import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { type CoreV1Api, StorageV1Api } from '@kubernetes/client-node';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, NO_HOST_IPTABLES, node, waitFor } from './binary-harness';
import { busybox, type FakeNodeKubelet, fakeNodeKubelet } from './fake-node-kubelet';

let fakeNode: FakeNodeKubelet;
let dir: string;
let core: CoreV1Api;
let client: CriClient;

beforeAll(async () => {
  fakeNode = await fakeNodeKubelet({
    nodeName: 'bin-node',
    dirPrefix: 'na-kubelet-bin',
    flags: ['--anonymous-auth=true'],
  });
  ({ dir, core } = fakeNode);
  client = await createCriClient({ endpoint: fakeNode.fake.endpoint });
});

afterAll(async () => {
  client?.close();
  await fakeNode?.close();
});

/** The DER certificate the kubelet server on `port` presents. */
function servedCertificate(port: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().raw);
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe('nodeagent-kubelet binary', () => {
  it('rejects an invalid flag naming flag and value, with exit code 1', async () => {
    const child = spawn(node, [cli, NO_HOST_IPTABLES, '--max-pods=many'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('--max-pods: must be an integer (got "many")');
  }, 30_000);

  it('registers the node, runs a pod, and after kill -9 a new process adopts its containers', async () => {
    const first = await fakeNode.startKubelet();
    await waitFor(
      'node registered',
      async () => (await core.readNode({ name: 'bin-node' })).metadata?.name === 'bin-node',
    );
    // Upstream's CSI plugin creates the node's CSINode at start, naming the in-tree plugins it
    // hands to CSI drivers; the node is Ready only once it exists.
    const storage = fakeNode.api.kubeConfig().makeApiClient(StorageV1Api);
    const csiNode = await waitFor('CSINode created', async () =>
      storage.readCSINode({ name: 'bin-node' }).catch(() => undefined),
    );
    expect(csiNode.metadata?.annotations?.['storage.alpha.kubernetes.io/migrated-plugins']).toBe(
      'kubernetes.io/aws-ebs,kubernetes.io/azure-disk,kubernetes.io/azure-file,kubernetes.io/cinder,kubernetes.io/gce-pd,kubernetes.io/portworx-volume,kubernetes.io/vsphere-volume',
    );
    expect(csiNode.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: 'bin-node' });
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'web' },
        spec: {
          nodeName: 'bin-node',
          containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'echo served; sleep 3600'] }],
        },
      },
    });
    await waitFor(
      'pod Running',
      async () =>
        (await core.readNamespacedPod({ name: 'web', namespace: 'default' })).status?.phase === 'Running',
    );
    const before = (await client.listContainers({})).containers.map((c) => c.id);
    expect(before).toHaveLength(1);

    // The kubelet server answers over TLS with a self-signed certificate.
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const text = await (
        await fetch(`https://127.0.0.1:${first.port}/containerLogs/default/web/app`)
      ).text();
      expect(text).toBe('served\n');
      // /configz: the configuration in effect, as upstream serves it (v1beta1 fields, no TypeMeta).
      const configz = (await (await fetch(`https://127.0.0.1:${first.port}/configz`)).json()) as {
        kubeletconfig: Record<string, unknown>;
      };
      expect(configz.kubeletconfig).toMatchObject({ syncFrequency: '1m0s', maxPods: 110 });
      expect(configz.kubeletconfig).not.toHaveProperty('kind');
      // The debugging handlers (enableDebuggingHandlers, on by default): /run through CRI ExecSync,
      // /checkpoint refused as containerd 1.6 refuses it, /debug/flags/v setting the log level.
      const base = `https://127.0.0.1:${first.port}`;
      const ran = await fetch(`${base}/run/default/web/app?cmd=echo ran`, { method: 'POST' });
      expect([ran.status, await ran.text()]).toEqual([200, 'ran\n']);
      const checkpoint = await fetch(`${base}/checkpoint/default/web/app`, { method: 'POST' });
      expect([checkpoint.status, await checkpoint.text()]).toEqual([
        500,
        'checkpointing of default/web/app failed (rpc error: code = Unimplemented desc = method CheckpointContainer not implemented)',
      ]);
      const flags = await fetch(`${base}/debug/flags/v`, { method: 'PUT', body: '4' });
      expect(await flags.text()).toBe('successfully set klog.logging.verbosity to 4\n');
      // enableSystemLogHandler (default true): /logs/ lists the node's /var/log/.
      const systemLogs = await fetch(`${base}/logs/`);
      expect([systemLogs.status, systemLogs.headers.get('content-type')]).toEqual([
        200,
        'text/html; charset=utf-8',
      ]);
      expect(await systemLogs.text()).toContain('<pre>\n');
      expect((await stat(join(dir, 'root', 'checkpoints'))).mode & 0o777).toBe(0o700);
    } finally {
      delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    }

    // No TLS settings: upstream's self-signed pair under --cert-dir is what the server presents.
    const pki = join(dir, 'root', 'pki');
    const pair = {
      cert: await readFile(join(pki, 'kubelet.crt')),
      key: await readFile(join(pki, 'kubelet.key')),
    };
    expect(await servedCertificate(first.port)).toEqual(new X509Certificate(pair.cert).raw);

    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.on('exit', resolve));
    const second = await fakeNode.startKubelet();
    // A restart serves the same pair, the files untouched.
    expect(await waitFor('second server', () => servedCertificate(second.port))).toEqual(
      new X509Certificate(pair.cert).raw,
    );
    expect(await readFile(join(pki, 'kubelet.crt'))).toEqual(pair.cert);
    expect(await readFile(join(pki, 'kubelet.key'))).toEqual(pair.key);
    // Give the new process time to sync the pod: it must not create anything new.
    await waitFor('pod re-synced', async () => {
      const pod = await core.readNamespacedPod({ name: 'web', namespace: 'default' });
      return pod.status?.phase === 'Running';
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await client.listContainers({})).containers.map((c) => c.id)).toEqual(before);
    expect((await client.listPodSandbox({})).items).toHaveLength(1);
  }, 400_000);
});
