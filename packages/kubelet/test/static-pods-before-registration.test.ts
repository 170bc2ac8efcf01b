import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { coreV1Requests } from '@nodeagent/informer';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { criPodRuntime } from '../src/cri/cri-pod-runtime';
import { Kubelet } from '../src/kubelet';
import { MirrorPodSync } from '../src/sources/mirror-pod-sync';
import { staticPodDefaults } from '../src/sources/static-pod-source';
import { apiPodStatusWriter } from '../src/status/api-pod-status-writer';
import { RecordingMounter } from '../src/volumes/mounter';
import { busybox, startEngine, testPod } from './helpers/engine';
import { waitFor } from './helpers/wait-for';

describe('static pods before the Service informer has listed', () => {
  it('start a static pod; an API pod waits, as upstream serviceHasSynced', async () => {
    const engine = await startEngine({ api: { services: { list: () => [], hasSynced: () => false } } });
    try {
      const staticPod = staticPodDefaults(
        testPod({}, 'control'),
        'node-a',
        '/etc/kubernetes/manifests/c.yaml',
        'now',
      );
      const apiPod = testPod({}, 'regular');
      engine.kubelet.addPod(staticPod);
      engine.kubelet.addPod(apiPod);
      await engine.kubelet.settle();
      const { containers } = await engine.client.listContainers({});
      const podNames = containers.map((c) => c.labels['io.kubernetes.pod.name']);
      expect(podNames).toEqual([staticPod.metadata.name]);
      expect(engine.kubelet.getPodStatus(staticPod.metadata.uid ?? '')?.phase).toBe('Running');
      const waiting = engine.kubelet.getPodStatus(apiPod.metadata.uid ?? '')?.containerStatuses?.[0]?.state
        .waiting;
      expect(waiting?.reason).toBe('CreateContainerConfigError');
      expect(waiting?.message).toContain('services have not yet been read at least once');
    } finally {
      await engine.close();
    }
  });

  it('an API pod that waited for the Services is retried after the back-off period, not the resync', async () => {
    // Upstream: SyncPod returns the CreateContainerConfigError, and the pod worker requeues the
    // pod after its 10 s back-off period; only a back-off's own waiting reason waits for the resync.
    let synced = false;
    const engine = await startEngine({
      api: {
        services: { list: () => [], hasSynced: () => synced },
      },
      pacing: {
        retryMs: 10_000,
      },
    });
    try {
      const apiPod = testPod({}, 'regular');
      engine.kubelet.addPod(apiPod);
      await engine.kubelet.settle();
      const uid = apiPod.metadata.uid ?? '';
      const waiting = () => engine.kubelet.getPodStatus(uid)?.containerStatuses?.[0]?.state.waiting?.reason;
      expect(waiting()).toBe('CreateContainerConfigError');
      synced = true;
      await engine.clock.advanceAsync(9_000, () => engine.kubelet.settle());
      expect(waiting()).toBe('CreateContainerConfigError');
      await engine.clock.advanceAsync(1_000, () => engine.kubelet.settle());
      expect(engine.kubelet.getPodStatus(uid)?.phase).toBe('Running');
    } finally {
      await engine.close();
    }
  });
});

/**
 * The mirror pod of a static pod that runs before its Node exists: no mirror pod (nor status)
 * until the Node is there; then the mirror pod, owned by the Node, and the status it missed.
 */
describe('mirror pods once the Node is registered', () => {
  const nodeName = 'late-node';
  let dir: string;
  let server: ApiServer;
  let fake: FakeRuntime;
  let client: CriClient;
  let kubelet: Kubelet;
  let mirrors: MirrorPodSync;
  const warnings: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-static-late-node-${process.pid}-`));
    server = await startApiServer();
    fake = await FakeRuntime.start({ images: [{ ref: busybox }, { ref: 'localhost/nodeagent/pause:3.10' }] });
    client = await createCriClient({ endpoint: fake.endpoint });
  });
  afterAll(async () => {
    mirrors?.stop();
    await kubelet?.stop();
    client?.close();
    await fake?.stop();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the mirror pod after the Node appears, and the static pod status catches up', async () => {
    const core = coreV1Requests(server.kubeConfig());
    kubelet = new Kubelet({
      node: {
        name: nodeName,
        rootDir: join(dir, 'root'),
        hostIPs: ['192.168.70.2'],
        memoryCapacity: 2 * 1024 ** 3,
      },
      runtime: criPodRuntime(client),
      config: parseKubeletConfiguration({
        podLogsDir: join(dir, 'logs'),
        volumePluginDir: join(dir, 'volume-plugins'),
      }).config,
      api: {
        statusWriter: apiPodStatusWriter(core),
      },
      mounter: new RecordingMounter(),
      pacing: {
        relistPeriodMs: 3_600_000,
        retryMs: 3_600_000,
        sleep: async () => {},
      },
      logger: { info() {}, warn: (_obj, msg) => warnings.push(msg ?? ''), error() {} },
    });
    await kubelet.start();
    let created: Pod[] = [];
    mirrors = new MirrorPodSync({
      core,
      nodeName,
      retryMs: 3_600_000,
      onCreated: (pods) => {
        created = pods;
        kubelet.resyncPods(pods);
      },
    });
    const pod = staticPodDefaults(
      testPod({}, 'etcd'),
      nodeName,
      '/etc/kubernetes/manifests/etcd.yaml',
      'now',
    );
    kubelet.setPods([pod], () => true);
    mirrors.setStaticPods([pod]);
    await kubelet.settle();
    await mirrors.idle();
    expect(kubelet.getPodStatus(pod.metadata.uid ?? '')?.phase).toBe('Running');
    const pods = server.resource('v1', 'pods');
    expect(server.registry.find(pods, 'default', pod.metadata.name ?? '')).toBeUndefined();
    // The missing mirror pod is expected, not a failure to report.
    expect(warnings.filter((w) => w.includes('Failed to update status'))).toEqual([]);

    // The node registers (what the node status reporter does), then says so.
    const node = server.registry.create(server.resource('v1', 'nodes'), undefined, {
      metadata: { name: nodeName },
    }) as { metadata: { uid: string } };
    mirrors.trigger();
    await mirrors.idle();
    expect(created.map((p) => p.metadata.name)).toEqual([pod.metadata.name]);
    const mirror = await waitFor('mirror pod with status', () => {
      const found = server.registry.find(pods, 'default', pod.metadata.name ?? '') as Pod | undefined;
      return found?.status?.phase === 'Running' ? found : undefined;
    });
    expect(mirror.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata.uid, controller: true },
    ]);
    expect(mirror.metadata.annotations?.['kubernetes.io/config.mirror']).toBe(pod.metadata.uid);
    expect(mirror.status?.containerStatuses?.[0]?.state.running).toBeDefined();
  });
});
