import { CoreV1Api, type V1Taint, type V1Toleration } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiServer, ManualClock, startApiServer } from '../src/apiserver/index';

const START = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('taint-based eviction', () => {
  let server: ApiServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function setup() {
    const clock = new ManualClock(START);
    // Only taint eviction: the test sets the taints itself, as the node lifecycle controller would.
    server = await startApiServer({
      controlPlane: { clock, nodeLifecycle: false, scheduler: false, replicaSet: false },
    });
    const s = server;
    const core = s.kubeConfig().makeApiClient(CoreV1Api);
    const settle = () => s.controlPlane?.settled() ?? Promise.resolve();
    await core.createNode({ body: { metadata: { name: 'n1' } } });
    const setTaints = async (taints: V1Taint[]) => {
      const n = await core.readNode({ name: 'n1' });
      await core.replaceNode({ name: 'n1', body: { ...n, spec: { ...n.spec, taints } } });
      await settle();
    };
    const runPod = async (name: string, tolerations?: V1Toleration[]) => {
      await core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name },
          spec: {
            nodeName: 'n1',
            containers: [{ name: 'c', image: 'i:1' }],
            ...(tolerations ? { tolerations } : {}),
          },
        },
      });
    };
    const pod = async (name: string) => {
      try {
        return await core.readNamespacedPod({ name, namespace: 'default' });
      } catch {
        return undefined;
      }
    };
    const events = async () =>
      (await core.listNamespacedEvent({ namespace: 'default' })).items
        .filter((e) => e.reason === 'TaintManagerEviction')
        .map((e) => `${e.involvedObject.name}: ${e.message}`);
    return { clock, core, settle, setTaints, runPod, pod, events };
  }

  it('deletes a pod that does not tolerate a NoExecute taint at once, and one that tolerates it for 300 s (the admission default) after 300 s', async () => {
    const { clock, settle, setTaints, runPod, pod, events } = await setup();
    // Admission adds the 300 s not-ready/unreachable tolerations to both.
    await runPod('plain');
    await runPod('forever', [
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    ]);
    await runPod('short', [
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 20,
      },
    ]);
    await runPod('drained', [
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 1000,
      },
    ]);
    expect((await pod('plain'))?.spec?.tolerations).toContainEqual(
      expect.objectContaining({ key: 'node.kubernetes.io/unreachable', tolerationSeconds: 300 }),
    );
    await settle();

    await setTaints([
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: new Date(START) },
    ]);
    expect(await events()).toEqual([]);
    expect(server?.controlPlane?.taintEviction?.scheduled()).toEqual(
      new Map([
        ['default/drained', START + 1_000_000],
        ['default/plain', START + 300_000],
        ['default/short', START + 20_000],
      ]),
    );

    await clock.advance(19_999);
    await settle();
    expect((await pod('short'))?.metadata?.deletionTimestamp).toBeUndefined();
    await clock.advance(1);
    await settle();
    const short = await pod('short');
    // Graceful deletion: no kubelet confirms it, so it stays Terminating (upstream behaviour).
    expect(short?.metadata?.deletionTimestamp).toEqual(new Date(START + 20_000 + 30_000));
    expect(short?.status?.conditions).toContainEqual(
      expect.objectContaining({
        type: 'DisruptionTarget',
        status: 'True',
        reason: 'DeletionByTaintManager',
        message: 'Taint manager: deleting due to NoExecute taint',
      }),
    );
    expect(await events()).toEqual(['short: Marking for deletion Pod default/short']);

    await clock.advance(300_000 - 20_000 - 1);
    await settle();
    expect((await pod('plain'))?.metadata?.deletionTimestamp).toBeUndefined();
    await clock.advance(1);
    await settle();
    expect((await pod('plain'))?.metadata?.deletionTimestamp).toEqual(new Date(START + 300_000 + 30_000));

    // A taint no toleration matches: evicted at once, the pending 1000 s work cancelled.
    await setTaints([
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: new Date(START) },
      { key: 'example.com/drain', effect: 'NoExecute' },
    ]);
    expect((await pod('drained'))?.metadata?.deletionTimestamp).toEqual(new Date(START + 300_000 + 30_000));
    expect((await pod('forever'))?.metadata?.deletionTimestamp).toEqual(new Date(START + 300_000 + 30_000));
    expect(await events()).toEqual(
      expect.arrayContaining([
        'drained: Cancelling deletion of Pod default/drained',
        'drained: Marking for deletion Pod default/drained',
        'forever: Marking for deletion Pod default/forever',
        'plain: Marking for deletion Pod default/plain',
      ]),
    );
  });

  it('cancels the eviction when the taint goes before tolerationSeconds, and never evicts a pod that tolerates it forever', async () => {
    const { clock, settle, setTaints, runPod, pod, events } = await setup();
    await runPod('plain');
    await runPod('forever', [
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    ]);
    await settle();
    await setTaints([{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }]);
    await clock.advance(299_000);
    await setTaints([]);
    expect(await events()).toEqual(['plain: Cancelling deletion of Pod default/plain']);
    await clock.advance(3_600_000);
    await settle();
    expect((await pod('plain'))?.metadata?.deletionTimestamp).toBeUndefined();
    expect((await pod('forever'))?.metadata?.deletionTimestamp).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });
});
