import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, type V1Deployment } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiServer, ManualClock, startApiServer } from '../src/apiserver/index';

const run = promisify(execFile);

describe('Deployment controller', () => {
  let server: ApiServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function setup() {
    const clock = new ManualClock();
    server = await startApiServer({ controlPlane: { clock, nodeLifecycle: false, taintEviction: false } });
    const s = server;
    const kc = s.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const settle = () => s.controlPlane?.settled() ?? Promise.resolve();
    await core.createNode({ body: { metadata: { name: 'n1' } } });
    /** A stand-in kubelet: every pod on n1 Running and Ready. */
    const runAll = async () => {
      for (const p of (await core.listNamespacedPod({ namespace: 'default' })).items) {
        if (p.metadata?.deletionTimestamp) {
          await core.deleteNamespacedPod({
            name: p.metadata.name as string,
            namespace: 'default',
            gracePeriodSeconds: 0,
          });
          continue;
        }
        if (p.status?.phase === 'Running' || !p.spec?.nodeName) continue;
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
      }
      await settle();
    };
    const replicaSets = async () =>
      (await apps.listNamespacedReplicaSet({ namespace: 'default' })).items
        .map(
          (rs) =>
            `${rs.metadata?.annotations?.['deployment.kubernetes.io/revision']}:${rs.spec?.replicas}/${rs.status?.availableReplicas ?? 0}`,
        )
        .sort();
    const events = async () =>
      (await core.listNamespacedEvent({ namespace: 'default' })).items
        .filter((e) => e.reason === 'ScalingReplicaSet')
        .map((e) => (e.message ?? '').replace(/web-[a-z0-9]+/, 'web-<hash>'));
    return { core, apps, settle, runAll, replicaSets, events };
  }

  const web = (image: string): V1Deployment => ({
    metadata: { name: 'web' },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } },
    },
  });

  it('makes a ReplicaSet per template and rolls from one to the next within maxSurge and maxUnavailable', async () => {
    const { apps, settle, runAll, replicaSets, events } = await setup();
    await apps.createNamespacedDeployment({ namespace: 'default', body: web('nginx:1') });
    await settle();
    const rs = (await apps.listNamespacedReplicaSet({ namespace: 'default' })).items[0];
    const hash = rs?.metadata?.labels?.['pod-template-hash'] as string;
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs?.metadata?.name).toBe(`web-${hash}`);
    expect(rs?.spec?.selector?.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(rs?.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: 'web',
      controller: true,
    });
    await runAll();
    expect(await replicaSets()).toEqual(['1:4/4']);
    let d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' });
    expect(d.status).toMatchObject({
      replicas: 4,
      updatedReplicas: 4,
      readyReplicas: 4,
      availableReplicas: 4,
    });
    expect(d.status?.conditions?.map((c) => `${c.type}=${c.status} ${c.reason}`)).toEqual([
      'Available=True MinimumReplicasAvailable',
      'Progressing=True NewReplicaSetAvailable',
    ]);

    // New image: 25% surge (1) and 25% unavailable (1) of 4.
    await apps.replaceNamespacedDeployment({
      name: 'web',
      namespace: 'default',
      body: { ...d, spec: { ...d.spec, template: web('nginx:2').spec?.template } as never },
    });
    await settle();
    // 5 pods at most (surge 1), at least 3 available (1 unavailable): old 4→3, new 0→1→2.
    expect(await replicaSets()).toEqual(['1:3/3', '2:2/0']);
    const steps: string[][] = [];
    for (let i = 0; i < 3; i++) {
      await runAll();
      steps.push(await replicaSets());
    }
    // Each step keeps at most 5 pods and at least 3 available.
    expect(steps).toEqual([
      ['1:1/1', '2:4/2'],
      ['1:0/0', '2:4/4'],
      ['1:0/0', '2:4/4'],
    ]);
    d = await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' });
    expect(d.status).toMatchObject({ replicas: 4, updatedReplicas: 4, availableReplicas: 4 });
    expect(await events()).toEqual(
      expect.arrayContaining([
        'Scaled up replica set web-<hash> from 0 to 4',
        'Scaled up replica set web-<hash> from 0 to 1',
        'Scaled down replica set web-<hash> from 4 to 3',
      ]),
    );
  });

  it('scales through the scale subresource, prints in kubectl get deploy, and takes its ReplicaSets and pods along when deleted', async () => {
    const { core, apps, settle, runAll } = await setup();
    await apps.createNamespacedDeployment({ namespace: 'default', body: web('nginx:1') });
    await settle();
    await runAll();
    await apps.patchNamespacedDeploymentScale({
      name: 'web',
      namespace: 'default',
      body: [{ op: 'replace', path: '/spec/replicas', value: 2 }],
    });
    await settle();
    await runAll();
    expect(
      (await apps.readNamespacedDeployment({ name: 'web', namespace: 'default' })).status?.replicas,
    ).toBe(2);
    const dir = mkdtempSync(join(tmpdir(), 'deploy-kubectl-'));
    try {
      server?.writeKubeconfig(join(dir, 'kubeconfig'));
      const { stdout } = await run('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), 'get', 'deploy'], {
        timeout: 30_000,
      });
      expect(stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+2\/2\s+2\s+2\s+\S+\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await apps.deleteNamespacedDeployment({ name: 'web', namespace: 'default' });
    await settle();
    expect((await apps.listNamespacedReplicaSet({ namespace: 'default' })).items).toEqual([]);
    await runAll();
    expect((await core.listNamespacedPod({ namespace: 'default' })).items).toEqual([]);
  });
});
