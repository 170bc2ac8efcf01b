import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiServer, ManualClock, startApiServer } from '../src/apiserver/index';

const run = promisify(execFile);

describe('ReplicaSet controller and pod garbage collection', () => {
  let server: ApiServer | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function setup() {
    const clock = new ManualClock();
    server = await startApiServer({ controlPlane: { clock, nodeLifecycle: false, taintEviction: false } });
    const s = server;
    const kc = s.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const settle = () => s.controlPlane?.settled() ?? Promise.resolve();
    for (const name of ['n1', 'n2']) await core.createNode({ body: { metadata: { name } } });
    const pods = async () =>
      (await core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' })).items.sort((a, b) =>
        String(a.metadata?.name).localeCompare(String(b.metadata?.name)),
      );
    const markReady = async (p: V1Pod) => {
      await core.replaceNamespacedPodStatus({
        name: p.metadata?.name as string,
        namespace: 'default',
        body: {
          ...p,
          status: {
            ...p.status,
            phase: 'Running',
            conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: clock.now() }],
          },
        },
      });
    };
    const events = async (reason: string) =>
      (await core.listNamespacedEvent({ namespace: 'default' })).items.filter((e) => e.reason === reason)
        .length;
    return { clock, core, apps, settle, pods, markReady, events };
  }

  const webRS = (replicas: number) => ({
    metadata: { name: 'web' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'nginx:1' }] },
      },
    },
  });

  it('creates spec.replicas owned pods, reports their status, replaces a terminating pod and scales down', async () => {
    const { core, apps, settle, pods, markReady, events } = await setup();
    await apps.createNamespacedReplicaSet({ namespace: 'default', body: webRS(3) });
    await settle();
    let list = await pods();
    expect(list).toHaveLength(3);
    for (const p of list) {
      expect(p.metadata?.name).toMatch(/^web-[a-z0-9]{5}$/);
      expect(p.metadata?.ownerReferences).toEqual([
        expect.objectContaining({
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web',
          controller: true,
          blockOwnerDeletion: true,
        }),
      ]);
      // The scheduler placed them.
      expect(['n1', 'n2']).toContain(p.spec?.nodeName);
    }
    expect(await events('SuccessfulCreate')).toBe(3);
    for (const p of list) await markReady(p);
    await settle();
    let rs = await apps.readNamespacedReplicaSet({ name: 'web', namespace: 'default' });
    expect(rs.status).toMatchObject({
      replicas: 3,
      fullyLabeledReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      observedGeneration: 1,
    });

    // A graceful delete leaves the pod Terminating (no kubelet here): it no longer counts.
    await core.deleteNamespacedPod({ name: list[0]?.metadata?.name as string, namespace: 'default' });
    await settle();
    list = await pods();
    expect(list).toHaveLength(4);
    expect(list.filter((p) => !p.metadata?.deletionTimestamp)).toHaveLength(3);
    rs = await apps.readNamespacedReplicaSet({ name: 'web', namespace: 'default' });
    expect(rs.status).toMatchObject({ replicas: 3, readyReplicas: 2 });

    await apps.patchNamespacedReplicaSet({
      name: 'web',
      namespace: 'default',
      body: [{ op: 'replace', path: '/spec/replicas', value: 1 }],
    });
    await settle();
    const active = (await pods()).filter((p) => !p.metadata?.deletionTimestamp);
    expect(active).toHaveLength(1);
    // The not-ready newcomer goes first; a ready pod is kept.
    expect(active[0]?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).toBe(true);
    expect(await events('SuccessfulDelete')).toBe(2);
  });

  it('counts a ready pod available only minReadySeconds after it turned ready', async () => {
    const { clock, apps, settle, pods, markReady } = await setup();
    const body = webRS(1);
    await apps.createNamespacedReplicaSet({
      namespace: 'default',
      body: { ...body, spec: { ...body.spec, minReadySeconds: 10 } },
    });
    await settle();
    await markReady((await pods())[0] as V1Pod);
    await settle();
    const status = async () =>
      (await apps.readNamespacedReplicaSet({ name: 'web', namespace: 'default' })).status;
    expect(await status()).toMatchObject({ readyReplicas: 1, availableReplicas: 0 });
    await clock.advance(9_999);
    await settle();
    expect((await status())?.availableReplicas).toBe(0);
    await clock.advance(1);
    await settle();
    expect((await status())?.availableReplicas).toBe(1);
  });

  it('adopts a matching orphan, and its pods go with a deleted ReplicaSet', async () => {
    const { core, apps, settle, pods } = await setup();
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'orphan', labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'nginx:1' }] },
      },
    });
    await apps.createNamespacedReplicaSet({ namespace: 'default', body: webRS(2) });
    await settle();
    const list = await pods();
    expect(list).toHaveLength(2);
    expect(list.find((p) => p.metadata?.name === 'orphan')?.metadata?.ownerReferences?.[0]?.name).toBe('web');
    await apps.deleteNamespacedReplicaSet({ name: 'web', namespace: 'default' });
    await settle();
    // Scheduled pods are deleted gracefully (deletionTimestamp set); nothing is recreated.
    const left = await pods();
    expect(left).toHaveLength(2);
    expect(left.every((p) => p.metadata?.deletionTimestamp)).toBe(true);
  });

  it('deletes in the foreground (the ReplicaSet waits for its pods) and orphans on request', async () => {
    const { core, apps, settle, pods } = await setup();
    await apps.createNamespacedReplicaSet({ namespace: 'default', body: webRS(2) });
    await settle();
    await apps.deleteNamespacedReplicaSet({
      name: 'web',
      namespace: 'default',
      propagationPolicy: 'Foreground',
    });
    await settle();
    // Its pods are Terminating (scheduled, no kubelet): the ReplicaSet stays, finalizer and all.
    const rs = await apps.readNamespacedReplicaSet({ name: 'web', namespace: 'default' });
    expect(rs.metadata?.deletionTimestamp).toBeDefined();
    expect(rs.metadata?.finalizers).toEqual(['foregroundDeletion']);
    const left = await pods();
    expect(left).toHaveLength(2);
    expect(left.every((p) => p.metadata?.deletionTimestamp)).toBe(true);
    // A kubelet confirming the deletions lets the ReplicaSet go.
    for (const p of left)
      await core.deleteNamespacedPod({
        name: p.metadata?.name as string,
        namespace: 'default',
        gracePeriodSeconds: 0,
      });
    await settle();
    expect((await apps.listNamespacedReplicaSet({ namespace: 'default' })).items).toEqual([]);

    await apps.createNamespacedReplicaSet({ namespace: 'default', body: webRS(2) });
    await settle();
    await apps.deleteNamespacedReplicaSet({ name: 'web', namespace: 'default', propagationPolicy: 'Orphan' });
    await settle();
    const orphans = await pods();
    expect(orphans).toHaveLength(2);
    expect(
      orphans.every(
        (p) => !p.metadata?.deletionTimestamp && (p.metadata?.ownerReferences ?? []).length === 0,
      ),
    ).toBe(true);
    await expect(
      apps.deleteNamespacedReplicaSet({ name: 'nope', namespace: 'default', propagationPolicy: 'Sideways' }),
    ).rejects.toMatchObject({ code: 422 });
  });

  it('rejects a selector the template does not match, and kubectl get rs prints DESIRED/CURRENT/READY', async () => {
    const { apps, settle } = await setup();
    const bad = webRS(1);
    bad.spec.template.metadata.labels = { app: 'other' };
    await expect(apps.createNamespacedReplicaSet({ namespace: 'default', body: bad })).rejects.toMatchObject({
      code: 422,
    });
    await apps.createNamespacedReplicaSet({ namespace: 'default', body: webRS(2) });
    await settle();
    dir = mkdtempSync(join(tmpdir(), 'rs-kubectl-'));
    const kubeconfig = join(dir, 'kubeconfig');
    server?.writeKubeconfig(kubeconfig);
    const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'rs', '-o', 'wide'], {
      timeout: 30_000,
    });
    expect(stdout).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n/);
    expect(stdout).toMatch(/\nweb\s+2\s+2\s+0\s+\S+\s+c\s+nginx:1\s+app=web\n/);
    // kubectl scale goes through the scale subresource (autoscaling/v1 Scale).
    const scaled = await run('kubectl', ['--kubeconfig', kubeconfig, 'scale', 'rs', 'web', '--replicas=3'], {
      timeout: 30_000,
    });
    expect(scaled.stdout.trim()).toBe('replicaset.apps/web scaled');
    await settle();
    expect(
      (await apps.readNamespacedReplicaSet({ name: 'web', namespace: 'default' })).status?.replicas,
    ).toBe(3);
    const scale = await apps.readNamespacedReplicaSetScale({ name: 'web', namespace: 'default' });
    expect(scale).toMatchObject({
      kind: 'Scale',
      spec: { replicas: 3 },
      status: { replicas: 3, selector: 'app=web' },
    });
    await expect(
      apps.replaceNamespacedReplicaSetScale({
        name: 'web',
        namespace: 'default',
        body: { metadata: { name: 'web' }, spec: { replicas: -1 } },
      }),
    ).rejects.toMatchObject({ code: 422 });
  });
});
