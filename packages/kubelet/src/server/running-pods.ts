import { hasReadySandbox, type PodRuntimeStatus } from '../cri/runtime-state';

/**
 * /runningpods/ as upstream's getRunningPods answers it: the runtime's running pods (a ready
 * sandbox; only running containers), each as kubecontainer's ToAPIPod makes it (uid, name,
 * namespace, and each container's name and image), in a v1 PodList encoded as Go encodes those
 * structs: empty lists are null, creationTimestamp null, resources and status empty objects.
 */
export function runningPodsBody(pods: readonly PodRuntimeStatus[]): string {
  const items = pods.filter(hasReadySandbox).map((pod) => {
    const containers = pod.containers
      .filter((container) => container.state === 'running')
      .map((container) => ({ name: container.name, image: container.image, resources: {} }));
    return {
      metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid, creationTimestamp: null },
      spec: { containers: containers.length > 0 ? containers : null },
      status: {},
    };
  });
  const list = { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: items.length > 0 ? items : null };
  return `${JSON.stringify(list)}\n`;
}
