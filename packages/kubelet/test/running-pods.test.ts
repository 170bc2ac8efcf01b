import { describe, expect, it } from 'vitest';
import type { PodRuntimeStatus } from '../src/cri/runtime-state';
import { createKubeletMetrics } from '../src/metrics';
import type { GenericPLEG } from '../src/pleg/generic-pleg';
import { PodCache } from '../src/pleg/pod-cache';
import { runningPodsBody } from '../src/server/running-pods';
import { PodRuntimeView } from '../src/sync/pod-runtime-view';

const sandbox = (ready: boolean) => ({
  id: 's',
  attempt: 0,
  ready,
  createdAt: 0,
  ips: [],
  hostNetwork: false,
});
const container = (name: string, state: 'created' | 'running' | 'exited') => ({
  id: name,
  name,
  state,
  restartCount: 0,
  hash: '0',
  createdAt: 0,
  image: `docker.io/library/${name}:1`,
  imageRef: 'sha256:0',
});

const pod = (
  uid: string,
  sandboxes: boolean[],
  containers: ReturnType<typeof container>[],
): PodRuntimeStatus => ({
  uid,
  name: uid,
  namespace: 'ns',
  sandboxes: sandboxes.map(sandbox),
  containers,
});

describe('runningPodsBody (upstream getRunningPods)', () => {
  it('encodes no running pod as Go encodes a nil items slice', () => {
    expect(runningPodsBody([])).toBe('{"kind":"PodList","apiVersion":"v1","metadata":{},"items":null}\n');
  });

  it('keeps pods with a ready sandbox and only their running containers, null where none run', () => {
    const pods: PodRuntimeStatus[] = [
      {
        uid: 'u1',
        name: 'a',
        namespace: 'ns',
        sandboxes: [sandbox(true)],
        containers: [container('web', 'running'), container('old', 'exited')],
      },
      {
        uid: 'u2',
        name: 'b',
        namespace: 'ns',
        sandboxes: [sandbox(true)],
        containers: [container('done', 'exited')],
      },
      {
        uid: 'u3',
        name: 'c',
        namespace: 'ns',
        sandboxes: [sandbox(false)],
        containers: [container('x', 'running')],
      },
    ];
    expect(JSON.parse(runningPodsBody(pods)).items).toEqual([
      {
        metadata: { name: 'a', namespace: 'ns', uid: 'u1', creationTimestamp: null },
        spec: { containers: [{ name: 'web', image: 'docker.io/library/web:1', resources: {} }] },
        status: {},
      },
      {
        metadata: { name: 'b', namespace: 'ns', uid: 'u2', creationTimestamp: null },
        spec: { containers: null },
        status: {},
      },
    ]);
  });
});

describe('PodRuntimeView.recountRunning (upstream kubelet_running_pods / kubelet_running_containers)', () => {
  it('counts pods with a ready sandbox once each, and containers by state, from the cache', async () => {
    const cache = new PodCache();
    cache.set(
      'a',
      pod('a', [false, true, true], [container('web', 'running'), container('init', 'exited')]),
      0,
    );
    cache.set('b', pod('b', [false], [container('web', 'exited')]), 0);
    cache.set('c', pod('c', [true], [container('web', 'created'), container('side', 'running')]), 0);
    const metrics = createKubeletMetrics();
    const view = new PodRuntimeView({} as GenericPLEG, cache, metrics);
    view.recountRunning();
    expect(await metrics.registry.getSingleMetricAsString('kubelet_running_pods')).toMatch(
      /^kubelet_running_pods 2$/m,
    );
    const containers = await metrics.registry.getSingleMetricAsString('kubelet_running_containers');
    expect(containers).toMatch(/^kubelet_running_containers\{container_state="running"\} 2$/m);
    expect(containers).toMatch(/^kubelet_running_containers\{container_state="exited"\} 2$/m);
    expect(containers).toMatch(/^kubelet_running_containers\{container_state="created"\} 1$/m);
    expect(containers).toMatch(/^kubelet_running_containers\{container_state="unknown"\} 0$/m);

    cache.delete('c');
    view.recountRunning();
    expect(await metrics.registry.getSingleMetricAsString('kubelet_running_pods')).toMatch(
      /^kubelet_running_pods 1$/m,
    );
  });

  it('PodCache.all lists every cached status in insertion order', () => {
    const cache = new PodCache();
    const a = pod('a', [], []);
    const b = pod('b', [], []);
    cache.set('a', a, 0);
    cache.set('b', b, 0);
    expect(cache.all()).toEqual([a, b]);
    expect(cache.all()[0]).toBe(a);
  });
});
