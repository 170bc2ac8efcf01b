import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CallGate } from '@nodeagent/cri-client/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Pod, PodStatus } from '../src/api/pod-types';
import { type EngineHarness, startEngine } from './helpers/engine';

/**
 * The upstream v1.36.3 kubelet's `hostusers-false` pod (fidelity/pod-status-v1.36): its sandbox
 * fails at every sync, so its status is exactly what upstream's SyncPod writes before it creates
 * the sandbox. Recorded with hostIP 10.77.0.1, times and uid normalised.
 */
const recorded = parseAllDocuments(
  readFileSync(
    fileURLToPath(new URL('../../../fidelity/pod-status-v1.36/pod-status.upstream.yaml', import.meta.url)),
    'utf8',
  ),
)
  .map((doc) => doc.toJS() as Pod)
  .find((p) => p.metadata.name === 'hostusers-false')!;

/** Times as the recording writes them. */
const normalised = (status: PodStatus) =>
  JSON.parse(JSON.stringify(status).replace(/"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"/g, '"<time>"')) as PodStatus;

let engine: EngineHarness | undefined;
let gate: CallGate | undefined;
afterEach(async () => {
  // A failed assertion leaves the sandbox call held: let it go so the kubelet can stop.
  gate?.release();
  gate = undefined;
  await engine?.close();
  engine = undefined;
});

/** Lets the promise chains a gRPC arrival woke run (no timers involved). */
async function turns(until: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !until(); i++) await new Promise((resolve) => setImmediate(resolve));
}

describe("a new pod's status goes out before its sandbox is created (upstream SyncPod)", () => {
  it('writes Pending / ContainerCreating while RunPodSandbox is still running, as upstream recorded it', async () => {
    // The recorded pod's node: admission checks spec.nodeName.
    engine = await startEngine({ node: { name: 'n1', hostIPs: ['10.77.0.1'] } });
    gate = engine.fake.holdCalls('RunPodSandbox');
    // The recorded pod as the API server gave it (uid, generation, spec), without hostUsers: false
    // (this runtime would refuse it before RunPodSandbox), its service account volume (no token
    // source here: the sync would wait for it before the sandbox) and its status.
    const { hostUsers: _hostUsers, volumes: _volumes, ...spec } = recorded.spec;
    const containers = spec.containers.map(({ volumeMounts: _mounts, ...container }) => container);
    const pod: Pod = { metadata: { ...recorded.metadata }, spec: { ...spec, containers } };
    const expected = structuredClone(recorded.status!);
    for (const container of expected.containerStatuses ?? []) delete container.volumeMounts;
    engine.kubelet.addPod(pod);
    await gate.reached;
    const uid = pod.metadata.uid!;
    await turns(() => engine!.writer.patches.some((p) => p.uid === uid));
    // The sandbox is still being created: none exists, and the status was written already.
    expect(engine.fake.counts().sandboxes).toBe(0);
    const written = engine.writer.patches.filter((p) => p.uid === uid);
    expect(written).toHaveLength(1);
    expect(normalised(written[0]!.status)).toEqual(expected);
    gate.release();
    await engine.kubelet.settle();
    // Once the sandbox exists the sync's own status follows.
    expect(engine.fake.counts().sandboxes).toBe(1);
    expect(
      engine.writer.last(uid)?.conditions?.find((c) => c.type === 'PodReadyToStartContainers')?.status,
    ).toBe('True');
  });

  it('leaves the written status in place when the sandbox fails (no status-less pod meanwhile)', async () => {
    engine = await startEngine();
    engine.fake.injectError('RunPodSandbox', { code: 2, details: 'failed to setup network for sandbox' });
    gate = engine.fake.holdCalls('RunPodSandbox');
    const pod: Pod = {
      metadata: { name: 'slow', namespace: 'default', uid: 'uid-slow', generation: 1 },
      spec: { containers: [{ name: 'c', image: 'localhost/nodeagent/busybox:1.0' }] },
    };
    engine.kubelet.addPod(pod);
    await gate.reached;
    await turns(() => engine!.writer.patches.length > 0);
    const before = engine.writer.last('uid-slow');
    expect(before?.phase).toBe('Pending');
    expect(before?.containerStatuses?.[0]?.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    gate.release();
    await engine.kubelet.settle();
    // The failed sync reports the same status: nothing more to write.
    expect(engine.writer.patches.filter((p) => p.uid === 'uid-slow')).toHaveLength(1);
  });

  it("writes a pod's dead sandbox (not ready, containers ended) before the new sandbox is created", async () => {
    engine = await startEngine();
    const pod: Pod = {
      metadata: { name: 'web', namespace: 'default', uid: 'uid-web', generation: 1 },
      spec: {
        containers: [{ name: 'c', image: 'localhost/nodeagent/busybox:1.0', command: ['sleep', 'infinity'] }],
        terminationGracePeriodSeconds: 1,
      },
    };
    engine.kubelet.addPod(pod);
    await engine.kubelet.settle();
    expect(engine.writer.last('uid-web')?.phase).toBe('Running');
    const { items } = await engine.client.listPodSandbox({});
    gate = engine.fake.holdCalls('RunPodSandbox');
    await engine.client.stopPodSandbox({ podSandboxId: items[0]!.id });
    const writes = engine.writer.patches.length;
    void engine.kubelet.pleg.relist();
    await gate.reached;
    await turns(() => engine!.writer.patches.length > writes);
    const meanwhile = engine.writer.last('uid-web');
    const condition = (type: string) => meanwhile?.conditions?.find((c) => c.type === type)?.status;
    expect([condition('PodReadyToStartContainers'), condition('Ready')]).toEqual(['False', 'False']);
    expect(meanwhile?.containerStatuses?.[0]?.state.terminated).toBeDefined();
    gate.release();
    await engine.kubelet.settle();
    expect(engine.writer.last('uid-web')?.containerStatuses?.[0]?.state.running).toBeDefined();
  });

  it("keeps an earlier sync's waiting reason in that status, as upstream's reasonCache does", async () => {
    engine = await startEngine();
    const pod: Pod = {
      metadata: { name: 'never', namespace: 'default', uid: 'uid-never', generation: 1 },
      spec: { containers: [{ name: 'c', image: 'localhost/absent:1', imagePullPolicy: 'Never' }] },
    };
    engine.kubelet.addPod(pod);
    await engine.kubelet.settle();
    const waiting = engine.writer.last('uid-never')?.containerStatuses?.[0]?.state.waiting;
    expect(waiting?.reason).toBe('ErrImageNeverPull');
    const { items } = await engine.client.listPodSandbox({});
    gate = engine.fake.holdCalls('RunPodSandbox');
    await engine.client.stopPodSandbox({ podSandboxId: items[0]!.id });
    const writes = engine.writer.patches.length;
    void engine.kubelet.pleg.relist();
    await gate.reached;
    await turns(() => engine!.writer.patches.length > writes);
    const meanwhile = engine.writer.last('uid-never');
    expect(meanwhile?.conditions?.find((c) => c.type === 'PodReadyToStartContainers')?.status).toBe('False');
    expect(meanwhile?.containerStatuses?.[0]?.state).toEqual({ waiting });
  });
});
