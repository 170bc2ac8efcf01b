import {
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/index';

describe('API server through @kubernetes/client-node typed APIs', { timeout: 30_000 }, () => {
  let server: ApiServer;
  let core: CoreV1Api;
  beforeAll(async () => {
    server = await startApiServer();
    core = server.kubeConfig().makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await server.close();
  });

  it('creates, reads, lists and deletes pods with a field selector', async () => {
    const created = await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'p1', labels: { app: 'a' } },
        spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] },
      },
    });
    expect(created.metadata?.uid).toMatch(/[0-9a-f-]{36}/);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'p2' },
        spec: { nodeName: 'n2', containers: [{ name: 'c', image: 'busybox' }] },
      },
    });
    const onN1 = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=n1' });
    expect(onN1.items.map((p) => p.metadata?.name)).toEqual(['p1']);
    const byLabel = await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app in (a,b)' });
    expect(byLabel.items.map((p) => p.metadata?.name)).toEqual(['p1']);
    const got = await core.readNamespacedPod({ namespace: 'default', name: 'p1' });
    expect(got.spec?.nodeName).toBe('n1');
    // Scheduled pod: graceful deletion sets deletionTimestamp first.
    const deleting = await core.deleteNamespacedPod({ namespace: 'default', name: 'p1' });
    expect(deleting.metadata?.deletionTimestamp).toBeDefined();
    await core.deleteNamespacedPod({ namespace: 'default', name: 'p1', gracePeriodSeconds: 0 });
    await expect(core.readNamespacedPod({ namespace: 'default', name: 'p1' })).rejects.toMatchObject({
      code: 404,
    });
  });

  it('patches node status with strategic merge patch and keeps spec', async () => {
    await core.createNode({ body: { metadata: { name: 'node-a' }, spec: { podCIDR: '10.244.1.0/24' } } });
    const patched = await core.patchNodeStatus(
      {
        name: 'node-a',
        body: {
          status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ok' }] },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(patched.status?.conditions?.[0]?.type).toBe('Ready');
    const again = await core.patchNodeStatus(
      { name: 'node-a', body: { status: { conditions: [{ type: 'MemoryPressure', status: 'False' }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(again.status?.conditions?.map((c) => c.type).sort()).toEqual(['MemoryPressure', 'Ready']);
    expect(again.spec?.podCIDR).toBe('10.244.1.0/24');
  });

  it('serves leases and endpointslices through their typed APIs', async () => {
    const coord = server.kubeConfig().makeApiClient(CoordinationV1Api);
    const lease = await coord.createNamespacedLease({
      namespace: 'kube-node-lease',
      body: { metadata: { name: 'node-a' }, spec: { holderIdentity: 'node-a', leaseDurationSeconds: 40 } },
    });
    lease.spec = { ...lease.spec, renewTime: new Date() };
    const renewed = await coord.replaceNamespacedLease({
      namespace: 'kube-node-lease',
      name: 'node-a',
      body: lease,
    });
    expect(renewed.spec?.renewTime).toBeTruthy();
    expect(Number(renewed.metadata?.resourceVersion)).toBeGreaterThan(
      Number(lease.metadata?.resourceVersion),
    );
    // A stale resourceVersion is a 409 Conflict.
    await expect(
      coord.replaceNamespacedLease({ namespace: 'kube-node-lease', name: 'node-a', body: lease }),
    ).rejects.toMatchObject({ code: 409 });
    const disc = server.kubeConfig().makeApiClient(DiscoveryV1Api);
    await disc.createNamespacedEndpointSlice({
      namespace: 'default',
      body: {
        metadata: { name: 's1' },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.0.0.1'] }],
        ports: [],
      },
    });
    const slices = await disc.listNamespacedEndpointSlice({ namespace: 'default' });
    expect(slices.items.map((s) => s.metadata?.name)).toEqual(['s1']);
  });

  it('merge-patches a service and allocates a ClusterIP', async () => {
    const svc = await core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
    });
    expect(svc.spec?.clusterIP).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\./);
    const patched = await core.patchNamespacedService(
      { namespace: 'default', name: 'web', body: { metadata: { labels: { tier: 'fe' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.metadata?.labels).toEqual({ tier: 'fe' });
    expect(patched.spec?.clusterIP).toBe(svc.spec?.clusterIP);
  });
});

describe('API server over HTTPS (tls: true)', () => {
  it('serves client-node with a verified self-signed certificate', async () => {
    const server = await startApiServer({ tls: true });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(server.caCertificate).toContain('BEGIN CERTIFICATE');
      const kc = server.kubeConfig();
      expect(kc.getCurrentCluster()?.skipTLSVerify).toBeFalsy();
      const core = kc.makeApiClient(CoreV1Api);
      const list = await core.listNamespace();
      expect(list.items.map((n) => n.metadata?.name)).toContain('kube-system');
      // Without the CA the client must refuse the connection.
      const untrusted = server.kubeConfig();
      const cluster = untrusted.getCurrentCluster();
      if (cluster) (cluster as { caData?: string }).caData = undefined;
      // client-node 1.4 reports the TLS error itself; 2.x (undici) wraps it: 'fetch failed', cause.
      const refused = await untrusted
        .makeApiClient(CoreV1Api)
        .listNamespace()
        .then(
          () => undefined,
          (e: Error & { cause?: { message?: string; code?: string } }) =>
            `${e.message} ${e.cause?.message ?? ''} ${e.cause?.code ?? ''}`,
        );
      expect(refused).toMatch(/certificate/i);
    } finally {
      await server.close();
    }
  });
});
