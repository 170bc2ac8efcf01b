import type { Container, Pod } from '../../src/api/pod-types';
import { containerHash } from '../../src/cri/container-hash';
import type {
  PodRuntimeStatus,
  RuntimeContainerStatus,
  RuntimeSandboxStatus,
} from '../../src/cri/runtime-state';

export function makePod(overrides: Partial<Pod['spec']> = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1', ...meta },
    spec: { containers: [{ name: 'app', image: 'busybox:latest' }], ...overrides },
  };
}

export function readySandbox(overrides: Partial<RuntimeSandboxStatus> = {}): RuntimeSandboxStatus {
  return {
    id: 'sb-1',
    attempt: 0,
    ready: true,
    createdAt: 1_000,
    ips: ['10.0.0.5'],
    hostNetwork: false,
    ...overrides,
  };
}

let nextId = 0;
export function runtimeContainer(
  container: Container,
  overrides: Partial<RuntimeContainerStatus> = {},
): RuntimeContainerStatus {
  nextId++;
  return {
    id: `c-${nextId}`,
    name: container.name,
    state: 'running',
    restartCount: 0,
    hash: containerHash(container),
    createdAt: 2_000 + nextId,
    startedAt: 2_000 + nextId,
    image: container.image ?? '',
    imageRef: `sha256:${container.name}`,
    ...overrides,
  };
}

export function runtimeStatus(
  pod: Pod,
  sandboxes: RuntimeSandboxStatus[],
  containers: RuntimeContainerStatus[] = [],
): PodRuntimeStatus {
  return {
    uid: pod.metadata.uid!,
    name: pod.metadata.name!,
    namespace: pod.metadata.namespace!,
    sandboxes,
    containers,
  };
}
