import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { ContainerState } from '@nodeagent/cri-client/types';
import { detectCgroupFilesystem } from '@nodeagent/kubelet/cgroups';
import { type ApiServer, kubeconfigYaml, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupV1Deprecated } from '../../src/startup-checks';
import { cli, freePorts, killChild, NO_HOST_IPTABLES, node, waitFor } from '../binary-harness';

/** The part of tools/containerd's RunningContainerd this test uses. */
interface PrivateContainerd {
  endpoint: string;
  images?: { busybox: { name: string } };
  stop(): Promise<void>;
}
// Loaded by path so this package's typecheck does not pull in the tools project.
const toolsContainerd = fileURLToPath(new URL('../../../../tools/containerd/containerd.ts', import.meta.url));

const NODE = 'static-first';
const POD = `web-${NODE}`;

/**
 * Issue #38: a kubeadm control plane runs as static pods, so the kubelet must start them with no
 * API server reachable. The binary on a private containerd, its kubeconfig naming a loopback
 * port nothing listens on yet: the static pod runs; then the API server comes up on that port,
 * and the kubelet registers the Node, creates the mirror pod with the pod's status, and writes the
 * events it made meanwhile (issue #51).
 */
describe('nodeagent-kubelet runs static pods before any API server exists', () => {
  let dir: string;
  let containerd: PrivateContainerd | undefined;
  let cri: CriClient | undefined;
  let api: ApiServer | undefined;
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-static-first-${process.pid}-`));
    const mod = (await import(toolsContainerd)) as { startContainerd: () => Promise<PrivateContainerd> };
    containerd = await mod.startContainerd();
    cri = await createCriClient({ endpoint: containerd.endpoint });
  }, 180_000);

  afterAll(async () => {
    await killChild(child);
    cri?.close();
    await api?.close();
    await containerd?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('starts a hostNetwork static pod with the API server down, then registers and mirrors it once the API server answers', async () => {
    const manifests = join(dir, 'manifests');
    await mkdir(manifests);
    await writeFile(join(dir, 'resolv.conf'), 'nameserver 127.0.0.53\n');
    await writeFile(
      join(manifests, 'web.yaml'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'kube-system' },
        spec: {
          hostNetwork: true,
          containers: [
            { name: 'web', image: containerd?.images?.busybox.name, command: ['sh', '-c', 'sleep 3600'] },
          ],
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
        `resolvConf: ${join(dir, 'resolv.conf')}`,
        'address: 127.0.0.1',
        'cgroupsPerQOS: false',
        'enforceNodeAllocatable: []',
        'failSwapOn: false',
        // Defaults to true (v1.35+): the test hosts may be cgroup v1.
        'failCgroupV1: false',
        'nodeStatusUpdateFrequency: 1s',
      ].join('\n'),
    );
    // The API server's port, chosen now and listened on only later: until then, connections
    // to it are refused.
    // Both chosen at once: the API server's port stays closed for a while, so a second pick could be it.
    const [apiPort, port] = await freePorts(2);
    await writeFile(join(dir, 'kubelet.conf'), kubeconfigYaml(`http://127.0.0.1:${apiPort}`), {
      mode: 0o600,
    });
    child = spawn(
      node,
      [
        cli,
        `--config=${join(dir, 'config.yaml')}`,
        `--kubeconfig=${join(dir, 'kubelet.conf')}`,
        `--hostname-override=${NODE}`,
        '--node-ip=127.0.0.1',
        `--root-dir=${join(dir, 'root')}`,
        `--cert-dir=${join(dir, 'pki')}`,
        `--container-runtime-endpoint=${containerd?.endpoint}`,
        `--port=${port}`,
        '--healthz-port=0',
        '--authorization-mode=AlwaysAllow',
        NO_HOST_IPTABLES,
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

    // 1. With nothing on the API server's port, the static pod's container runs.
    const running = await waitFor(
      'static pod container running without an API server',
      async () => {
        const { containers } = await (cri as CriClient).listContainers({});
        return containers.find(
          (c) =>
            c.labels['io.kubernetes.pod.name'] === POD &&
            c.labels['io.kubernetes.pod.namespace'] === 'kube-system' &&
            c.state === ContainerState.CONTAINER_RUNNING,
        );
      },
      120_000,
    ).catch(withOutput);
    expect(running.metadata?.name).toBe('web');
    const refused = await fetch(`http://127.0.0.1:${apiPort}/version`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);

    // 2. The API server comes up on the kubeconfig's port: the Node is registered and the mirror
    // pod created (owned by the Node), carrying the static pod's status.
    api = await startApiServer({ port: apiPort });
    const core = api.kubeConfig().makeApiClient(CoreV1Api);
    const registered = await waitFor(
      'node registered',
      async () => {
        const found = await core.readNode({ name: NODE });
        return found.metadata?.uid ? found : undefined;
      },
      120_000,
    ).catch(withOutput);
    const mirror = await waitFor(
      'mirror pod Running with its status',
      async () => {
        const pod: V1Pod = await core.readNamespacedPod({ name: POD, namespace: 'kube-system' });
        return pod.status?.phase === 'Running' && pod.status.containerStatuses?.[0]?.ready ? pod : undefined;
      },
      120_000,
    ).catch(withOutput);

    const annotations = mirror.metadata?.annotations ?? {};
    expect(annotations['kubernetes.io/config.mirror']).toBe(annotations['kubernetes.io/config.hash']);
    expect(annotations['kubernetes.io/config.source']).toBe('file');
    expect(mirror.metadata?.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Node', name: NODE, uid: registered.metadata?.uid, controller: true },
    ]);
    expect(mirror.spec?.nodeName).toBe(NODE);
    // The status as upstream reports a running hostNetwork pod: the host's IP as pod IP, every
    // condition True, the container running with the ID the runtime gave it.
    const status = mirror.status;
    expect(status?.hostIP).toBe('127.0.0.1');
    expect(status?.podIP).toBe('127.0.0.1');
    expect(status?.podIPs).toEqual([{ ip: '127.0.0.1' }]);
    expect(status?.qosClass).toBe('BestEffort');
    const conditions = Object.fromEntries((status?.conditions ?? []).map((c) => [c.type, c.status]));
    expect(conditions).toMatchObject({
      PodReadyToStartContainers: 'True',
      Initialized: 'True',
      Ready: 'True',
      ContainersReady: 'True',
      PodScheduled: 'True',
    });
    const container = status?.containerStatuses?.[0];
    expect(container?.name).toBe('web');
    expect(container?.containerID).toBe(`containerd://${running.id}`);
    expect(container?.state?.running?.startedAt).toBeDefined();
    expect(container?.restartCount).toBe(0);

    // The events made while the API server was down (issue #51) were kept and written once it
    // answered, as client-go's broadcaster retries them: the node's Starting and the static
    // pod's Pulled, Created and Started, each once.
    const earlyReasons = ['Starting', 'Pulled', 'Created', 'Started'];
    const early = await waitFor(
      'the events made before the API server answered',
      async () => {
        const events = (await core.listEventForAllNamespaces()).items.filter(
          (e) => e.involvedObject.name === NODE || e.involvedObject.name === POD,
        );
        return earlyReasons.every((r) => events.some((e) => e.reason === r)) ? events : undefined;
      },
      120_000,
    ).catch(withOutput);
    const startedEvent = early.find((e) => e.reason === 'Starting');
    expect(startedEvent).toMatchObject({
      involvedObject: { kind: 'Node', name: NODE },
      message: 'Starting kubelet.',
      count: 1,
    });
    // On a cgroup v1 host (failCgroupV1: false) upstream warns on the Node too; never on v2.
    const cgroupV1Events = early.filter((e) => e.reason === 'CgroupV1');
    if ((await detectCgroupFilesystem()).version === 1) {
      expect(cgroupV1Events).toMatchObject([
        {
          type: 'Warning',
          involvedObject: { kind: 'Node', name: NODE },
          message: cgroupV1Deprecated.message,
        },
      ]);
    } else {
      expect(cgroupV1Events).toEqual([]);
    }
    for (const reason of ['Pulled', 'Created', 'Started']) {
      const events = early.filter((e) => e.reason === reason && e.involvedObject.name === POD);
      expect(events, reason).toHaveLength(1);
      expect(events[0]).toMatchObject({
        involvedObject: { kind: 'Pod', namespace: 'kube-system', fieldPath: 'spec.containers{web}' },
        count: 1,
      });
    }

    // 3. A client sets the mirror pod's Ready to False: the kubelet's status reconcile (every
    // 10 s) compares the static pod's status with its mirror pod's and puts Ready True back.
    const readyOf = (pod: V1Pod) => pod.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    const replaced = await core.patchNamespacedPodStatus(
      {
        name: POD,
        namespace: 'kube-system',
        body: {
          status: {
            conditions: status?.conditions?.map((c) => (c.type === 'Ready' ? { ...c, status: 'False' } : c)),
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(readyOf(replaced)).toBe('False');
    await waitFor('Ready True put back on the mirror pod', async () => {
      const pod: V1Pod = await core.readNamespacedPod({ name: POD, namespace: 'kube-system' });
      return readyOf(pod) === 'True';
    }).catch(withOutput);
  }, 400_000);
});
