import type { PodRuntimeStatus } from '../../src/cri/runtime-state';

/**
 * What the runtime reports for pod `web` (uid-1, default) with its sandbox ready at 10.0.0.5
 * and its one container `app` (c1, busybox) running since `startedAt`: the input a pod sync
 * turns into a Running status in the probe → status tests.
 */
export function runningPodRuntimeStatus(startedAt: number): PodRuntimeStatus {
  return {
    uid: 'uid-1',
    name: 'web',
    namespace: 'default',
    sandboxes: [
      { id: 'sb', attempt: 0, ready: true, createdAt: startedAt, ips: ['10.0.0.5'], hostNetwork: false },
    ],
    containers: [
      {
        id: 'c1',
        name: 'app',
        state: 'running',
        exitCode: 0,
        restartCount: 0,
        hash: 'h',
        createdAt: startedAt,
        startedAt,
        image: 'busybox',
        imageRef: 'sha256:x',
      },
    ],
  };
}
