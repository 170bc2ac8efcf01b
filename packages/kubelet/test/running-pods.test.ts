import { describe, expect, it } from 'vitest';
import type { PodRuntimeStatus } from '../src/cri/runtime-state';
import { runningPodsBody } from '../src/server/running-pods';

const sandbox = (ready: boolean) => ({
  id: 's',
  attempt: 0,
  ready,
  createdAt: 0,
  ips: [],
  hostNetwork: false,
});
const container = (name: string, state: 'running' | 'exited') => ({
  id: name,
  name,
  state,
  restartCount: 0,
  hash: '0',
  createdAt: 0,
  image: `docker.io/library/${name}:1`,
  imageRef: 'sha256:0',
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
