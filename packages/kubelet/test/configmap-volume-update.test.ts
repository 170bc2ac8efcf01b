import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { type CriClient, createCriClient } from '@nodeagent/cri-client';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { coreV1Requests } from '@nodeagent/informer';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { criPodRuntime } from '../src/cri/cri-pod-runtime';
import { Kubelet } from '../src/kubelet';
import { PodObjectManager } from '../src/objects/pod-object-manager';
import { ApiPodSource } from '../src/sources/api-pod-source';
import { apiPodStatusWriter } from '../src/status/api-pod-status-writer';
import { RecordingMounter } from '../src/volumes/mounter';
import { busybox } from './helpers/engine';
import { waitForDespiteErrors } from './helpers/wait-for';

/**
 * A ConfigMap and a Secret changed under a running pod reach its volumes at the pod's periodic
 * resync (syncFrequency, 2 s here), through the Watch strategy's watches: no GET of either, and
 * the watches end when the pod is deleted.
 */

const nodeName = 'node-objects';
let server: ApiServer;
let core: CoreV1Api;
let fake: FakeRuntime;
let client: CriClient;
let objects: PodObjectManager;
let kubelet: Kubelet;
let source: ApiPodSource;
let dir: string;
const requests: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-objects-${process.pid}-`));
  server = await startApiServer({ audit: (_user, method, path) => requests.push(`${method} ${path}`) });
  core = server.kubeConfig().makeApiClient(CoreV1Api);
  fake = await FakeRuntime.start({ images: [{ ref: busybox }] });
  client = await createCriClient({ endpoint: fake.endpoint });
  const config = parseKubeletConfiguration({
    podLogsDir: join(dir, 'logs'),
    volumePluginDir: join(dir, 'volume-plugins'),
    syncFrequency: '2s',
  }).config;
  expect(config.configMapAndSecretChangeDetectionStrategy).toBe('Watch');
  objects = new PodObjectManager({
    strategy: config.configMapAndSecretChangeDetectionStrategy,
    kubeConfig: server.kubeConfig(),
    core: coreV1Requests(server.kubeConfig()),
    resyncIntervalMs: 2_000,
  });
  kubelet = new Kubelet({
    node: {
      name: nodeName,
      rootDir: join(dir, 'root'),
      hostIPs: ['192.168.61.2'],
      memoryCapacity: 2 * 1024 ** 3,
    },
    runtime: criPodRuntime(client),
    config,
    api: { objects, statusWriter: apiPodStatusWriter(core) },
    mounter: new RecordingMounter(),
    pacing: { relistPeriodMs: 100, retryMs: 200, sleep: async () => {} },
  });
  await kubelet.start();
  source = new ApiPodSource(server.kubeConfig(), nodeName, {
    add: (pod) => kubelet.addPod(pod),
    update: (pod) => kubelet.updatePod(pod),
    remove: (pod) => kubelet.removePod(pod),
  });
  await source.start();
});

afterAll(async () => {
  await source?.stop();
  await kubelet?.stop();
  await objects?.stop();
  client?.close();
  await fake?.stop();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('configMap and secret volumes under the Watch strategy', () => {
  it('rewrites a running pod’s volumes when its objects change, and releases the watches when it goes', async () => {
    const watchesBefore = server.openWatches;
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'live-config' }, data: { mode: 'slow' } },
    });
    await core.createNamespacedSecret({
      namespace: 'default',
      body: { metadata: { name: 'live-secret' }, stringData: { token: 'one' } },
    });
    const created = (await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'live' },
        spec: {
          nodeName,
          volumes: [
            { name: 'config', configMap: { name: 'live-config' } },
            { name: 'both', projected: { sources: [{ secret: { name: 'live-secret' } }] } },
          ],
          containers: [
            {
              name: 'app',
              image: busybox,
              command: ['sh', '-c', 'sleep 3600'],
              volumeMounts: [
                { name: 'config', mountPath: '/config' },
                { name: 'both', mountPath: '/both' },
              ],
            },
          ],
        },
      },
    })) as unknown as Pod;
    const uid = created.metadata.uid!;
    const configFile = join(kubelet.volumes.volumeDir(uid, 'configMap', 'config'), 'mode');
    const secretFile = join(kubelet.volumes.volumeDir(uid, 'projected', 'both'), 'token');
    await waitForDespiteErrors(
      'the volumes written',
      async () => (await readFile(secretFile, 'utf8')) === 'one',
    );
    expect(await readFile(configFile, 'utf8')).toBe('slow');
    // One watch for the ConfigMap, one for the Secret.
    expect(server.openWatches - watchesBefore).toBe(2);

    await core.replaceNamespacedConfigMap({
      name: 'live-config',
      namespace: 'default',
      body: { metadata: { name: 'live-config' }, data: { mode: 'fast' } },
    });
    await core.replaceNamespacedSecret({
      name: 'live-secret',
      namespace: 'default',
      body: { metadata: { name: 'live-secret' }, stringData: { token: 'two' } },
    });
    await waitForDespiteErrors(
      'the configMap change in the volume',
      async () => (await readFile(configFile, 'utf8')) === 'fast',
    );
    await waitForDespiteErrors(
      'the secret change in the volume',
      async () => (await readFile(secretFile, 'utf8')) === 'two',
    );
    expect(requests.filter((r) => /\/(configmaps|secrets)\/live-/.test(r) && r.startsWith('GET '))).toEqual(
      [],
    );

    await core.deleteNamespacedPod({ name: 'live', namespace: 'default' });
    await waitForDespiteErrors('the pod gone', async () => kubelet.getPods().length === 0);
    await waitForDespiteErrors('the watches released', () => server.openWatches === watchesBefore);
  });
});
