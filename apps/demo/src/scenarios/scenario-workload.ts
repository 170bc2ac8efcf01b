import type { KubeObject } from '@nodeagent/testing';
import { DemoError } from '../errors';

export const SCENARIO_APP = 'scenario-web';

/** Upstream's NoExecute taints a node gets when it is unreachable or not ready. */
const NODE_TAINTS = ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready'];

/**
 * The scenario's ReplicaSet: `replicas` copies of the demo's web pod (busybox httpd serving its
 * hostname), placed by the scheduler. Its pods tolerate the unreachable and not-ready taints for
 * `tolerationSeconds`, as a pod spec may (the API server's DefaultTolerationSeconds admission
 * adds 300 s only where a pod sets none), so a test can shorten the wait before eviction.
 */
export function scenarioReplicaSet(
  webPod: KubeObject,
  replicas: number,
  tolerationSeconds: number,
): KubeObject {
  const spec = structuredClone(webPod.spec) as Record<string, unknown> | undefined;
  if (!spec) throw new DemoError('INVALID_MANIFEST', 'spec', webPod.metadata.name, 'the web pod has no spec');
  delete spec.nodeName;
  // A small request per container: the scheduler scores nodes by what is left unrequested, so
  // pods that ask for nothing all score the same and may pile onto one node.
  for (const c of (spec.containers ?? []) as { resources?: { requests?: Record<string, string> } }[]) {
    c.resources = { ...c.resources, requests: c.resources?.requests ?? { cpu: '10m', memory: '16Mi' } };
  }
  spec.tolerations = NODE_TAINTS.map((key) => ({
    key,
    operator: 'Exists',
    effect: 'NoExecute',
    tolerationSeconds,
  }));
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: SCENARIO_APP, namespace: 'default', labels: { app: SCENARIO_APP } },
    spec: {
      replicas,
      selector: { matchLabels: { app: SCENARIO_APP } },
      template: { metadata: { labels: { app: SCENARIO_APP } }, spec },
    },
  };
}
