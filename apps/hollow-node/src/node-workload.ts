import type { Pod } from '@nodeagent/kubelet/api';
import { podConfigMapNames, podSecretNames } from '@nodeagent/kubelet/sources';
import type { NodeWorkload } from './upstream-api-profile';

/**
 * What a node's pods cost upstream's kubelet (upstream-api-profile.ts): how many, how many with
 * a projected service account token, and the distinct ConfigMaps and Secrets they reference.
 */
export function nodeWorkload(pods: readonly Pod[]): NodeWorkload {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  let tokenPods = 0;
  for (const pod of pods) {
    const namespace = pod.metadata.namespace ?? 'default';
    for (const name of podConfigMapNames(pod)) configMaps.add(`${namespace}/${name}`);
    for (const name of podSecretNames(pod)) secrets.add(`${namespace}/${name}`);
    const hasToken = (pod.spec.volumes ?? []).some((volume) =>
      volume.projected?.sources?.some((source) => source.serviceAccountToken),
    );
    if (hasToken) tokenPods++;
  }
  return { pods: pods.length, tokenPods, configMaps: configMaps.size, secrets: secrets.size };
}

/** Several nodes' workloads summed (the report divides by the node count). */
export function addWorkloads(a: NodeWorkload, b: NodeWorkload): NodeWorkload {
  return {
    pods: a.pods + b.pods,
    tokenPods: a.tokenPods + b.tokenPods,
    configMaps: a.configMaps + b.configMaps,
    secrets: a.secrets + b.secrets,
  };
}
