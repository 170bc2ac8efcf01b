import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { type EngineHarness, startEngine, testPod } from './helpers/engine';

let h: EngineHarness;
const logs = join(tmpdir(), `na-kubelet-admission-${process.pid}`);
beforeEach(async () => {
  h = await startEngine({ config: parseKubeletConfiguration({ maxPods: 2, podLogsDir: logs }).config });
});
afterEach(async () => {
  await h.close();
  await rm(logs, { recursive: true, force: true });
});

describe('admission', () => {
  it('rejects pods beyond maxPods with OutOfpods and never runs them', async () => {
    const pods = [testPod(), testPod(), testPod()];
    for (const pod of pods) h.kubelet.addPod(pod);
    await h.kubelet.settle();
    expect(pods.map((pod) => h.kubelet.getPodStatus(pod.metadata.uid!)?.phase)).toEqual([
      'Running',
      'Running',
      'Failed',
    ]);
    const rejected = h.kubelet.getPodStatus(pods[2]!.metadata.uid!)!;
    expect(rejected.reason).toBe('OutOfpods');
    expect(rejected.message).toBe(
      "Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2",
    );
    expect((await h.client.listPodSandbox({})).items).toHaveLength(2);
    // Once a pod is gone, a new one fits again.
    h.kubelet.removePod(pods[0]!);
    await h.kubelet.settle();
    const next = testPod();
    h.kubelet.addPod(next);
    await h.kubelet.settle();
    expect(h.kubelet.getPodStatus(next.metadata.uid!)?.phase).toBe('Running');
  });
});
