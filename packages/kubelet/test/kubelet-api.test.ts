import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { ContainerState } from '@nodeagent/cri-client/types';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStaticPod } from '../src/api/config-source';
import type { Pod } from '../src/api/pod-types';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { criPodRuntime } from '../src/cri/cri-pod-runtime';
import { Kubelet } from '../src/kubelet';
import { PodObjectManager } from '../src/objects/pod-object-manager';
import { apiTokenSource, syncMirrorPods } from '../src/sources/api-clients';
import { ApiPodSource } from '../src/sources/api-pod-source';
import { StaticPodSource } from '../src/sources/static-pod-source';
import { apiPodStatusWriter } from '../src/status/api-pod-status-writer';
import { RecordingMounter } from '../src/volumes/mounter';
import { busybox } from './helpers/engine';
import { waitForDespiteErrors } from './helpers/wait-for';

let server: ApiServer;
let core: CoreV1Api;
let fake: FakeRuntime;
let client: CriClient;
let kubelet: Kubelet;
let objects: PodObjectManager;
let source: ApiPodSource;
let staticSource: StaticPodSource;
let dir: string;
const nodeName = 'node-api';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-api-${process.pid}-`));
  await mkdir(join(dir, 'manifests'));
  server = await startApiServer();
  core = server.kubeConfig().makeApiClient(CoreV1Api);
  fake = await FakeRuntime.start({ images: [{ ref: busybox }] });
  client = await createCriClient({ endpoint: fake.endpoint });
  objects = new PodObjectManager({ kubeConfig: server.kubeConfig(), core, resyncIntervalMs: 60_000 });
  kubelet = new Kubelet({
    node: {
      name: nodeName,
      rootDir: join(dir, 'root'),
      hostIPs: ['192.168.60.2'],
      memoryCapacity: 2 * 1024 ** 3,
    },
    runtime: criPodRuntime(client),
    config: parseKubeletConfiguration({
      podLogsDir: join(dir, 'logs'),
      volumePluginDir: join(dir, 'volume-plugins'),
      clusterDNS: ['10.96.0.10'],
      clusterDomain: 'cluster.local',
    }).config,
    api: {
      objects,
      tokens: apiTokenSource(core),
      statusWriter: apiPodStatusWriter(core),
    },
    mounter: new RecordingMounter(),
    pacing: {
      relistPeriodMs: 100,
      retryMs: 200,
      sleep: async () => {},
    },
  });
  await kubelet.start();
  source = new ApiPodSource(server.kubeConfig(), nodeName, {
    add: (pod) => kubelet.addPod(pod),
    update: (pod) => kubelet.updatePod(pod),
    remove: (pod) => kubelet.removePod(pod),
    mirrorPods: kubelet.mirrorPods,
  });
  await source.start();
  staticSource = new StaticPodSource({
    dir: join(dir, 'manifests'),
    nodeName,
    checkFrequencyMs: 100,
    onPods: (pods) => {
      kubelet.setPods(pods, isStaticPod);
      void syncMirrorPods(core, pods, nodeName).catch(() => undefined);
    },
  });
  await staticSource.start();
});

afterAll(async () => {
  staticSource?.stop();
  await source?.stop();
  await kubelet?.stop();
  await objects?.stop();
  client?.close();
  await fake?.stop();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function apiPod(name: string): Promise<Pod | undefined> {
  try {
    return (await core.readNamespacedPod({ name, namespace: 'default' })) as unknown as Pod;
  } catch {
    return undefined;
  }
}

describe('Kubelet with the in-process API server', () => {
  it('runs a pod bound to the node and reports Running with its IP through pods/status', async () => {
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'web' },
        spec: {
          nodeName,
          containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'sleep 3600'] }],
        },
      },
    });
    const pod = await waitForDespiteErrors('web Running', async () => {
      const p = await apiPod('web');
      return p?.status?.phase === 'Running' && p.status.podIP ? p : undefined;
    });
    expect(pod.status!.podIP).toMatch(/^10\.88\./);
    expect(pod.status!.hostIP).toBe('192.168.60.2');
    expect(pod.status!.containerStatuses![0]).toMatchObject({ name: 'app', ready: true, restartCount: 0 });
    // Upstream's order, with PodScheduled added by the kubelet for a pod bound without a scheduler.
    expect(pod.status!.conditions!.map((c) => c.type)).toEqual([
      'PodReadyToStartContainers',
      'Initialized',
      'Ready',
      'ContainersReady',
      'PodScheduled',
    ]);
  });

  it('ignores pods bound to other nodes', async () => {
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'elsewhere' },
        spec: { nodeName: 'other-node', containers: [{ name: 'c', image: busybox }] },
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(kubelet.getPods().map((p) => p.metadata.name)).not.toContain('elsewhere');
  });

  it('mounts configMap, secret and projected service account token volumes', async () => {
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'app-config' }, data: { mode: 'fast' } },
    });
    await core.createNamespacedSecret({
      namespace: 'default',
      body: { metadata: { name: 'app-secret' }, data: { token: Buffer.from('s3cret').toString('base64') } },
    });
    const created = (await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'with-volumes' },
        spec: {
          nodeName,
          volumes: [
            { name: 'config', configMap: { name: 'app-config' } },
            { name: 'secret', secret: { secretName: 'app-secret' } },
            {
              name: 'sa',
              projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] },
            },
          ],
          containers: [
            {
              name: 'app',
              image: busybox,
              command: ['sh', '-c', 'sleep 3600'],
              env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'mode' } } }],
              volumeMounts: [
                { name: 'config', mountPath: '/config' },
                { name: 'secret', mountPath: '/secret' },
                { name: 'sa', mountPath: '/var/run/secrets/tokens' },
              ],
            },
          ],
        },
      },
    })) as unknown as Pod;
    await waitForDespiteErrors(
      'with-volumes Running',
      async () => (await apiPod('with-volumes'))?.status?.phase === 'Running',
    );
    const volumes = kubelet.volumes;
    const uid = created.metadata.uid!;
    expect(await readFile(join(volumes.volumeDir(uid, 'configMap', 'config'), 'mode'), 'utf8')).toBe('fast');
    expect(await readFile(join(volumes.volumeDir(uid, 'secret', 'secret'), 'token'), 'utf8')).toBe('s3cret');
    const token = await readFile(join(volumes.volumeDir(uid, 'projected', 'sa'), 'token'), 'utf8');
    expect(token.length).toBeGreaterThan(10);
    // The container got the env var and mounts.
    const { containers } = await client.listContainers({});
    const container = containers.find((c) => c.labels['io.kubernetes.pod.uid'] === uid)!;
    const { status } = await client.containerStatus({ containerId: container.id });
    expect(status!.mounts.map((m) => m.containerPath)).toEqual(
      expect.arrayContaining(['/config', '/secret', '/var/run/secrets/tokens', '/dev/termination-log']),
    );
  });

  it('terminates a deleted pod, then removes the API object', async () => {
    await waitForDespiteErrors('web Running', async () => (await apiPod('web'))?.status?.phase === 'Running');
    await core.deleteNamespacedPod({ name: 'web', namespace: 'default' });
    await waitForDespiteErrors('web gone', async () => (await apiPod('web')) === undefined);
    // As upstream, the API object goes once the containers have stopped; removing them follows.
    const web = async () =>
      (await client.listContainers({})).containers.filter(
        (c) => c.labels['io.kubernetes.pod.name'] === 'web',
      );
    expect((await web()).filter((c) => c.state === ContainerState.CONTAINER_RUNNING)).toEqual([]);
    await waitForDespiteErrors('web containers removed', async () => (await web()).length === 0);
  });

  it('runs static pods from the manifest directory and mirrors them into the API', async () => {
    await writeFile(
      join(dir, 'manifests', 'static-web.yaml'),
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata:',
        '  name: static-web',
        'spec:',
        '  containers:',
        '  - name: web',
        `    image: ${busybox}`,
        '    command: ["sh", "-c", "sleep 3600"]',
      ].join('\n'),
    );
    await writeFile(join(dir, 'manifests', 'broken.yaml'), 'kind: Deployment\n');
    const mirror = await waitForDespiteErrors('mirror pod Running', async () => {
      const p = await apiPod(`static-web-${nodeName}`);
      return p?.status?.phase === 'Running' ? p : undefined;
    });
    expect(mirror.metadata.annotations?.['kubernetes.io/config.mirror']).toBeDefined();
    expect(mirror.status?.podIP).toMatch(/^10\.88\./);
    const local = kubelet.getPods().find((p) => p.metadata.name === `static-web-${nodeName}`)!;
    expect(local.metadata.annotations?.['kubernetes.io/config.source']).toBe('file');

    // A client replaces the mirror pod's conditions (Ready False): once the watch delivered that
    // copy, the status reconcile (its 10 s period is the engine tests' part) puts Ready True back.
    const readyOf = (p: Pod | undefined) => p?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    expect(readyOf(mirror)).toBe('True');
    const conditions = mirror.status?.conditions?.map((c) =>
      c.type === 'Ready' ? { ...c, status: 'False' } : c,
    );
    const replaced = (await core.patchNamespacedPodStatus(
      { name: mirror.metadata.name!, namespace: 'default', body: { status: { conditions } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as unknown as Pod;
    expect(readyOf(replaced)).toBe('False');
    await waitForDespiteErrors(
      'the replaced mirror pod delivered by the watch',
      () => kubelet.mirrorPods.of(local)?.metadata.resourceVersion === replaced.metadata.resourceVersion,
    );
    kubelet.statusManager.reconcile();
    await kubelet.statusManager.flush();
    expect(readyOf(await apiPod(`static-web-${nodeName}`))).toBe('True');

    // Removing the manifest stops the pod and removes the mirror.
    await rm(join(dir, 'manifests', 'static-web.yaml'));
    await waitForDespiteErrors(
      'static pod stopped',
      async () => !kubelet.getPods().some((p) => p.metadata.name === `static-web-${nodeName}`),
    );
    await waitForDespiteErrors(
      'mirror gone',
      async () => (await apiPod(`static-web-${nodeName}`)) === undefined,
    );
  });
});
