import { CoreV1Api } from '@kubernetes/client-node';
import { FakeClock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiEventRecorder } from '../src/sources/api-event-recorder';

let server: ApiServer;
let core: CoreV1Api;
beforeAll(async () => {
  server = await startApiServer();
  core = server.kubeConfig().makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await server?.close();
});

describe('apiEventRecorder', () => {
  it('posts a core/v1 Event about the pod as upstream kubelet does', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 22, 20, 0, 0));
    const errors: unknown[] = [];
    const record = apiEventRecorder(core, { nodeName: 'node-e', clock, onError: (e) => errors.push(e) });
    const pod = { metadata: { name: 'web', namespace: 'default', uid: 'uid-e1' }, spec: { containers: [] } };
    record(pod, 'Warning', 'SysctlForbidden', 'forbidden sysctl: "kernel.msgmax" not allowlisted');
    const deadline = Date.now() + 30_000;
    let items = (await core.listNamespacedEvent({ namespace: 'default' })).items;
    while (items.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      items = (await core.listNamespacedEvent({ namespace: 'default' })).items;
    }
    expect(errors).toEqual([]);
    expect(items).toHaveLength(1);
    const [event] = items;
    expect(event!.metadata.name).toBe(`web.${(BigInt(clock.now()) * 1_000_000n).toString(16)}`);
    expect(event).toMatchObject({
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'uid-e1', apiVersion: 'v1' },
      type: 'Warning',
      reason: 'SysctlForbidden',
      message: 'forbidden sysctl: "kernel.msgmax" not allowlisted',
      source: { component: 'kubelet', host: 'node-e' },
      count: 1,
    });
  });
});
