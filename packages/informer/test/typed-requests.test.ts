import { PatchStrategy, setHeaderOptions, V1MicroTime } from '@kubernetes/client-node';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import {
  ApiRequestError,
  ApiStatusError,
  apiRequest,
  coordinationV1Requests,
  coreV1Requests,
  InvalidOptionError,
} from '../src/index';

describe('typed requests against the in-process API server', { timeout: 30_000 }, () => {
  let server: ApiServer;
  afterEach(async () => {
    await server?.close();
  });

  it('creates, reads and patches a Node with the strategy the call names', async () => {
    server = await startApiServer();
    const core = coreV1Requests(server.kubeConfig());
    const created = await core.createNode({
      body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { a: '1' } } },
    });
    expect(created.metadata?.uid).toBeTruthy();
    // A merge patch (null deletes a key) through setHeaderOptions, as the call sites write it.
    const patched = await core.patchNode(
      { name: 'n1', body: { metadata: { labels: { a: null, b: '2' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.metadata?.labels).toEqual({ b: '2' });
    // Without a strategy header the body is a JSON patch, client-node's default.
    const jsonPatched = await core.patchNode({
      name: 'n1',
      body: [{ op: 'add', path: '/metadata/labels/c', value: '3' }],
    });
    expect(jsonPatched.metadata?.labels).toEqual({ b: '2', c: '3' });
    expect((await core.readNode({ name: 'n1' })).metadata?.labels).toEqual({ b: '2', c: '3' });
  });

  it('fails with the HTTP status and the Status body, as client-node ApiException carries them', async () => {
    server = await startApiServer();
    const core = coreV1Requests(server.kubeConfig());
    const missing = await core.readNode({ name: 'nope' }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiRequestError);
    expect(missing).toBeInstanceOf(ApiStatusError);
    expect((missing as ApiRequestError).code).toBe(404);
    expect((missing as ApiRequestError).reason).toBe('NotFound');
    expect(JSON.parse((missing as ApiRequestError).body).reason).toBe('NotFound');
    await core.createNode({ body: { metadata: { name: 'n1' } } });
    const again = await core.createNode({ body: { metadata: { name: 'n1' } } }).catch((e: unknown) => e);
    expect((again as ApiRequestError).code).toBe(409);
    expect((again as ApiRequestError).reason).toBe('AlreadyExists');
  });

  it('sends the parameters that are not path fields as the query (list field selector, delete grace period)', async () => {
    server = await startApiServer();
    const core = coreV1Requests(server.kubeConfig());
    for (const [name, node] of [
      ['p1', 'n1'],
      ['p2', 'n2'],
    ] as const)
      await core.createNamespacedPod({
        namespace: 'default',
        body: { metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'i' }] } },
      });
    const onN1 = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=n1' });
    expect(onN1.items.map((p) => p.metadata?.name)).toEqual(['p1']);
    await core.deleteNamespacedPod({ name: 'p1', namespace: 'default', gracePeriodSeconds: 0 });
    const left = await core.listPodForAllNamespaces({});
    expect(left.items.map((p) => p.metadata?.name)).toEqual(['p2']);
    expect((await core.readNamespacedPod({ name: 'p2', namespace: 'default' })).spec?.nodeName).toBe('n2');
  });

  it('writes a Lease renewTime with microseconds and replaces it at the version read', async () => {
    server = await startApiServer();
    const coordination = coordinationV1Requests(server.kubeConfig());
    const namespace = 'kube-node-lease';
    const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    await coordination.createNamespacedLease({
      namespace,
      body: {
        metadata: { name: 'n1', namespace },
        spec: { holderIdentity: 'n1', renewTime: new V1MicroTime(at) },
      },
    });
    const read = await coordination.readNamespacedLease({ name: 'n1', namespace });
    // The server's JSON: a string, typed as one (Wire<V1Lease>), not the Date client-node's class declares.
    expect(read.spec?.renewTime).toBe('2026-01-02T03:04:05.678000Z');
    expectTypeOf(read.spec?.renewTime).toEqualTypeOf<string | undefined>();
    expectTypeOf(read.metadata?.creationTimestamp).toEqualTypeOf<string | undefined>();
    const replaced = await coordination.replaceNamespacedLease({
      name: 'n1',
      namespace,
      body: { ...read, spec: { ...read.spec, renewTime: new V1MicroTime(at + 1000).toISOString() } },
    });
    expect(replaced.spec?.renewTime).toBe('2026-01-02T03:04:06.678000Z');
    // A stale resourceVersion is a conflict, as with the typed client.
    const stale = await coordination
      .replaceNamespacedLease({ name: 'n1', namespace, body: read })
      .catch((e: unknown) => e);
    expect((stale as ApiRequestError).code).toBe(409);
  });

  it('refuses a KubeConfig without a current cluster, naming it', async () => {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const empty = new KubeConfig();
    await expect(apiRequest(empty, { method: 'GET', path: '/api/v1/nodes' })).rejects.toBeInstanceOf(
      InvalidOptionError,
    );
  });
});
