import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, freePort, killChild, NO_HOST_IPTABLES, node, waitFor } from '../binary-harness';

/** The part of tools/containerd's RunningContainerd this test uses. */
interface PrivateContainerd {
  endpoint: string;
  images?: { busybox: { name: string } };
  stop(): Promise<void>;
}
// Loaded by path so this package's typecheck does not pull in the tools project.
const toolsContainerd = fileURLToPath(new URL('../../../../tools/containerd/containerd.ts', import.meta.url));

const NODE = 'completed-logs';
const namespace = 'default';
/** Pods per round, and rounds: each read races the exit of its container. */
const pods = 10;
const rounds = 2;

/**
 * What the e2e framework's TestContainerOutput does, and a user's `kubectl logs` of a finished
 * Job: the binary on a private containerd, a pod whose container writes a few lines and exits,
 * the pod's phase polled until Succeeded, then its log read through the API server at once. The
 * log must hold everything the container wrote, however busy the machine (run it under
 * tools/ci/with-cpu-load.mjs to see a loaded node).
 */
describe('nodeagent-kubelet: the log of a container that has just completed', () => {
  let dir: string;
  let containerd: PrivateContainerd | undefined;
  let api: ApiServer | undefined;
  let child: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-completed-logs-${process.pid}-`));
    const mod = (await import(toolsContainerd)) as { startContainerd: () => Promise<PrivateContainerd> };
    containerd = await mod.startContainerd();
    api = await startApiServer();
    api.writeKubeconfig(join(dir, 'kubelet.conf'));
    await writeFile(join(dir, 'resolv.conf'), 'nameserver 127.0.0.53\n');
    await writeFile(
      join(dir, 'config.yaml'),
      [
        'apiVersion: kubelet.config.k8s.io/v1beta1',
        'kind: KubeletConfiguration',
        `podLogsDir: ${join(dir, 'logs')}`,
        `resolvConf: ${join(dir, 'resolv.conf')}`,
        'address: 127.0.0.1',
        'cgroupsPerQOS: false',
        'enforceNodeAllocatable: []',
        'failSwapOn: false',
        'failCgroupV1: false',
      ].join('\n'),
    );
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
        `--container-runtime-endpoint=${containerd.endpoint}`,
        `--port=${await freePort()}`,
        '--healthz-port=0',
        '--authorization-mode=AlwaysAllow',
        // The in-process API server reaches the kubelet without a client certificate.
        '--anonymous-auth=true',
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
  }, 180_000);

  afterAll(async () => {
    await killChild(child);
    await api?.close();
    await containerd?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('holds all its output when read the moment the pod has succeeded', async () => {
    const core = (api as ApiServer).kubeConfig().makeApiClient(CoreV1Api);
    await waitFor(
      'the node',
      async () => (await core.readNode({ name: NODE })).metadata?.name,
      120_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; kubelet output:\n${output}`);
    });
    const expected = 'line-1\nline-2\nline-3\n';
    const empty: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const names = Array.from({ length: pods }, (_, i) => `done-${round}-${i}`);
      for (const name of names)
        await core.createNamespacedPod({
          namespace,
          body: {
            metadata: { name },
            spec: {
              nodeName: NODE,
              restartPolicy: 'Never',
              terminationGracePeriodSeconds: 1,
              containers: [
                {
                  name: 'writer',
                  image: containerd?.images?.busybox.name,
                  // Its last act is to write: its exit follows its final output.
                  command: ['sh', '-c', 'echo line-1; echo line-2; echo line-3'],
                },
              ],
            },
          },
        });
      const logs = await Promise.all(
        names.map(async (name) => {
          await waitFor(
            `${name} to succeed`,
            async () => (await core.readNamespacedPod({ name, namespace })).status?.phase === 'Succeeded',
            120_000,
            20,
          );
          return [name, await core.readNamespacedPodLog({ name, namespace, container: 'writer' })] as const;
        }),
      );
      for (const [name, log] of logs) if (log !== expected) empty.push(`${name}: ${JSON.stringify(log)}`);
      for (const name of names) await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
    }
    expect(empty).toEqual([]);
  }, 600_000);
});
