import { CoreV1Api, StorageV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/apiserver/index';

let server: ApiServer;
let core: CoreV1Api;

beforeEach(async () => {
  server = await startApiServer({
    controlPlane: {
      nodeLifecycle: false,
      taintEviction: false,
      scheduler: false,
      replicaSet: false,
      deployment: false,
      garbageCollector: false,
    },
  });
  core = server.kubeConfig().makeApiClient(CoreV1Api);
});
afterEach(async () => {
  await server.close();
});

const pod = (name: string): V1Pod => ({
  metadata: { name, namespace: 'default' },
  spec: {
    containers: [{ name: 'c', image: 'busybox' }],
    volumes: [
      { name: 'cache', emptyDir: {} },
      {
        name: 'scratch',
        ephemeral: {
          volumeClaimTemplate: {
            metadata: { labels: { tier: 'db' }, annotations: { note: 'x' } },
            spec: {
              accessModes: ['ReadWriteOnce'],
              storageClassName: 'fast',
              resources: { requests: { storage: '1Gi' } },
            },
          },
        },
      },
    ],
  },
});

describe('ephemeral volume controller', () => {
  it("creates each generic ephemeral volume's <pod>-<volume> claim from its template, controlled by the pod", async () => {
    const created = await core.createNamespacedPod({ namespace: 'default', body: pod('web') });
    await server.controlPlane?.settled();
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace: 'default' });
    expect(claims.items.map((c) => c.metadata?.name)).toEqual(['web-scratch']);
    const claim = claims.items[0]!;
    expect(claim.metadata?.labels).toEqual({ tier: 'db' });
    expect(claim.metadata?.annotations).toEqual({ note: 'x' });
    expect(claim.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        name: 'web',
        uid: created.metadata?.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(claim.spec?.storageClassName).toBe('fast');
    expect(claim.spec?.resources?.requests).toEqual({ storage: '1Gi' });
    // Handled again on the pod's next change: nothing more is created, no event.
    await core.patchNamespacedPod({
      name: 'web',
      namespace: 'default',
      body: [{ op: 'add', path: '/metadata/labels', value: { again: 'yes' } }],
    });
    await server.controlPlane?.settled();
    expect((await core.listNamespacedPersistentVolumeClaim({ namespace: 'default' })).items).toHaveLength(1);
    expect((await core.listNamespacedEvent({ namespace: 'default' })).items).toEqual([]);
  });

  it("leaves another object's claim of that name alone and reports it on the pod", async () => {
    await core.createNamespacedPersistentVolumeClaim({
      namespace: 'default',
      body: {
        metadata: { name: 'db-scratch' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    });
    await core.createNamespacedPod({ namespace: 'default', body: pod('db') });
    await server.controlPlane?.settled();
    const claim = await core.readNamespacedPersistentVolumeClaim({
      name: 'db-scratch',
      namespace: 'default',
    });
    expect(claim.metadata?.ownerReferences).toBeUndefined();
    const events = (await core.listNamespacedEvent({ namespace: 'default' })).items;
    expect(
      events.map((e) => [e.involvedObject.kind, e.involvedObject.name, e.type, e.reason, e.message]),
    ).toEqual([
      [
        'Pod',
        'db',
        'Warning',
        'FailedBinding',
        'ephemeral volume scratch: PVC default/db-scratch was not created for pod default/db (pod is not owner)',
      ],
    ]);
  });
});

describe('CSIDriver defaults', () => {
  it('fills the fields the API server defaults (storage/v1 SetDefaults_CSIDriver)', async () => {
    const storage = server.kubeConfig().makeApiClient(StorageV1Api);
    const created = await storage.createCSIDriver({
      body: { metadata: { name: 'd.example.com' }, spec: {} },
    });
    expect(created.spec).toEqual({
      attachRequired: true,
      podInfoOnMount: false,
      fsGroupPolicy: 'ReadWriteOnceWithFSType',
      requiresRepublish: false,
      storageCapacity: false,
      seLinuxMount: false,
      volumeLifecycleModes: ['Persistent'],
    });
    const kept = await storage.createCSIDriver({
      body: {
        metadata: { name: 'e.example.com' },
        spec: { fsGroupPolicy: 'File', volumeLifecycleModes: ['Ephemeral'] },
      },
    });
    expect(kept.spec?.fsGroupPolicy).toBe('File');
    expect(kept.spec?.volumeLifecycleModes).toEqual(['Ephemeral']);
  });
});
