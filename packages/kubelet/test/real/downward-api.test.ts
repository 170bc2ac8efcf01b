import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container, Pod } from '../../src/api/pod-types';
import { parseKubeletConfiguration } from '../../src/config/kubelet-configuration';
import { criPodRuntime } from '../../src/cri/cri-pod-runtime';
import { Kubelet } from '../../src/kubelet';
import { type PrivateContainerd, startPrivateContainerd, tearDownKubeletNode } from './private-containerd';

/**
 * The downward API on containerd with pods as an API server stores them (divisor "0" when unset,
 * defaultMode 420, fieldRef apiVersion v1), with the conformance tests' expectations
 * (test/e2e/common/storage/downwardapi_volume.go, projected_downwardapi.go,
 * test/e2e/common/node/downwardapi.go): files and env read inside the container.
 */

let containerd: PrivateContainerd;
let client: CriClient;
let api: ApiServer;
let kubelet: Kubelet;
let dir: string;
let busybox: string;
const ALLOCATABLE = { cpu: '2', memory: '2Gi', 'ephemeral-storage': '20Gi', pods: '110' };

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function apiCall(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(api.url + path, {
    method,
    headers: { 'Content-Type': contentType },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Pod;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Creates the pod through the API server (which defaults it) and hands the stored pod to the kubelet. */
async function runStored(
  body: Pod,
): Promise<{ pod: Pod; exec: (container: string, cmd: string) => Promise<string> }> {
  const pod = await apiCall('POST', '/api/v1/namespaces/default/pods', body);
  kubelet.addPod(pod);
  const runtime = criPodRuntime(client);
  const ids = await waitFor('all containers running', async () => {
    const status = kubelet.getPodStatus(pod.metadata.uid!);
    const running = status?.containerStatuses?.filter((s) => s.state.running) ?? [];
    if (running.length !== pod.spec.containers.length) return undefined;
    return new Map(running.map((s) => [s.name, s.containerID!.replace('containerd://', '')]));
  });
  return {
    pod,
    exec: async (container, cmd) =>
      (await runtime.execSync(ids.get(container)!, ['sh', '-c', cmd], 10)).stdout.toString(),
  };
}

const sleeper = (name: string, extra: Partial<Container> = {}): Container => ({
  name,
  image: busybox,
  command: ['sh', '-c', 'sleep 3600'],
  ...extra,
});
const limited = {
  limits: { cpu: '1250m', memory: '64Mi' },
  requests: { cpu: '250m', memory: '32Mi' },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-downward-${process.pid}-`));
  containerd = await startPrivateContainerd();
  busybox = containerd.images!.busybox.name;
  client = await createCriClient({ endpoint: containerd.endpoint });
  api = await startApiServer();
  kubelet = new Kubelet({
    node: {
      name: 'node-downward',
      rootDir: join(dir, 'root'),
      hostIPs: ['192.168.71.2'],
      memoryCapacity: 2 * 1024 ** 3,
    },
    runtime: criPodRuntime(client),
    config: parseKubeletConfiguration({
      podLogsDir: join(dir, 'logs'),
      volumePluginDir: join(dir, 'volume-plugins'),
    }).config,
    pacing: {
      relistPeriodMs: 200,
      retryMs: 500,
    },
  });
  // What the binary does when the node status is reported.
  kubelet.setNodeAllocatable(ALLOCATABLE);
  await kubelet.start();
}, 120_000);

afterAll(async () => {
  await tearDownKubeletNode({ kubelets: [kubelet], client, api, containerd, dir });
}, 120_000);

describe('downward API on containerd, pods as the API server stores them', () => {
  it('fills a downward API volume: podname, modes, cpu/memory limits and requests, allocatable, labels update', async () => {
    const resource = (path: string, containerName: string, res: string) => ({
      path,
      resourceFieldRef: { containerName, resource: res },
    });
    const { pod, exec } = await runStored({
      metadata: { name: 'downwardapi-volume', labels: { key1: 'value1', key2: 'value2' } },
      spec: {
        nodeName: 'node-downward',
        terminationGracePeriodSeconds: 1,
        containers: [
          sleeper('client-container', {
            resources: limited,
            volumeMounts: [
              { name: 'podinfo', mountPath: '/etc/podinfo' },
              { name: 'projected', mountPath: '/etc/projected' },
            ],
          }),
          sleeper('no-limits'),
        ],
        volumes: [
          {
            name: 'podinfo',
            downwardAPI: {
              defaultMode: 0o400,
              items: [
                { path: 'podname', fieldRef: { fieldPath: 'metadata.name' } },
                { path: 'podname_item_mode', fieldRef: { fieldPath: 'metadata.name' }, mode: 0o444 },
                { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
                resource('cpu_limit', 'client-container', 'limits.cpu'),
                resource('memory_limit', 'client-container', 'limits.memory'),
                resource('cpu_request', 'client-container', 'requests.cpu'),
                resource('memory_request', 'client-container', 'requests.memory'),
                resource('allocatable_cpu_limit', 'no-limits', 'limits.cpu'),
                resource('allocatable_memory_limit', 'no-limits', 'limits.memory'),
              ],
            },
          },
          {
            name: 'projected',
            projected: {
              sources: [
                { downwardAPI: { items: [resource('cpu_limit', 'client-container', 'limits.cpu')] } },
              ],
            },
          },
        ],
      },
    } as Pod);
    // Stored as a real server stores it: the unset divisor is "0", the unset mode 420.
    const stored = pod.spec.volumes![0]!.downwardAPI!;
    expect(stored.items![3]!.resourceFieldRef!.divisor).toBe('0');
    expect(pod.spec.volumes![1]!.projected!.defaultMode).toBe(420);

    const read = (file: string) => exec('client-container', `cat /etc/podinfo/${file}`);
    expect(await read('podname')).toBe('downwardapi-volume');
    expect(await read('cpu_limit')).toBe('2');
    expect(await read('memory_limit')).toBe('67108864');
    expect(await read('cpu_request')).toBe('1');
    expect(await read('memory_request')).toBe('33554432');
    expect(await read('allocatable_cpu_limit')).toBe('2');
    expect(await read('allocatable_memory_limit')).toBe(String(2 * 1024 ** 3));
    expect(await exec('client-container', 'cat /etc/projected/cpu_limit')).toBe('2');
    // mounttest --file_mode: "-r--------" for defaultMode 0400, the item's own mode otherwise.
    expect((await exec('client-container', 'stat -L -c %A /etc/podinfo/podname')).trim()).toBe('-r--------');
    expect((await exec('client-container', 'stat -L -c %A /etc/podinfo/podname_item_mode')).trim()).toBe(
      '-r--r--r--',
    );
    expect(await read('labels')).toBe('key1="value1"\nkey2="value2"');

    // "should update labels on modification": the file follows the pod's labels.
    const patched = await apiCall(
      'PATCH',
      '/api/v1/namespaces/default/pods/downwardapi-volume',
      { metadata: { labels: { key3: 'value3' } } },
      'application/strategic-merge-patch+json',
    );
    kubelet.updatePod(patched);
    await waitFor('the labels file to change', async () => {
      const text = await read('labels');
      return text.includes('key3="value3"') ? text : undefined;
    });
  }, 180_000);

  it('resolves resource env vars with divisor "0", defaulting limits to node allocatable', async () => {
    const env = (name: string, resource: string) => ({ name, valueFrom: { resourceFieldRef: { resource } } });
    const vars = [
      env('CPU_LIMIT', 'limits.cpu'),
      env('MEMORY_LIMIT', 'limits.memory'),
      env('CPU_REQUEST', 'requests.cpu'),
      env('MEMORY_REQUEST', 'requests.memory'),
    ];
    const { pod, exec } = await runStored({
      metadata: { name: 'downward-api-env' },
      spec: {
        nodeName: 'node-downward',
        terminationGracePeriodSeconds: 1,
        containers: [
          sleeper('dapi-container', { resources: limited, env: vars }),
          sleeper('no-limits', { env: vars }),
        ],
      },
    } as Pod);
    expect(pod.spec.containers[0]!.env![0]!.valueFrom!.resourceFieldRef!.divisor).toBe('0');
    const show = 'echo "$CPU_LIMIT $MEMORY_LIMIT $CPU_REQUEST $MEMORY_REQUEST"';
    expect((await exec('dapi-container', show)).trim()).toBe('2 67108864 1 33554432');
    // "should provide default limits.cpu/memory from node allocatable"; no requests: 0.
    expect((await exec('no-limits', show)).trim()).toBe(`2 ${2 * 1024 ** 3} 0 0`);
  }, 180_000);
});
