import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ApiServer, KubeObject } from '@nodeagent/testing';
import { parseAllDocuments } from 'yaml';
import { DemoError } from './errors';

/** The sample workload shipped with the demo. */
export const workloadPath = fileURLToPath(new URL('../manifests/web.yaml', import.meta.url));

const plurals: Record<string, string> = { Pod: 'pods', Service: 'services', ReplicaSet: 'replicasets' };

export interface WorkloadSettings {
  nodeName: string;
  /** Image for every container (the locally imported busybox). */
  image: string;
  /**
   * The fake runtime cannot run httpd or answer HTTP probes: containers become a long sleep and
   * lose their readiness probes. The demo says so when it uses this.
   */
  fakeRuntime: boolean;
}

/** Parses the manifests and fits them to this node: nodeName (no scheduler), local image. */
export function loadWorkload(text: string, settings: WorkloadSettings): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0)
      throw new DemoError('INVALID_MANIFEST', 'manifest', doc.errors[0]?.message, 'is not valid YAML');
    const object = doc.toJS() as KubeObject | null;
    if (!object) continue;
    if (object.kind !== 'Pod' && object.kind !== 'Service') {
      throw new DemoError(
        'INVALID_MANIFEST',
        'kind',
        object.kind,
        'is not a kind the demo applies (Pod, Service)',
      );
    }
    if (object.kind === 'Pod') fitPod(object, settings);
    objects.push(object);
  }
  return objects;
}

function fitPod(pod: KubeObject, settings: WorkloadSettings): void {
  const spec = pod.spec as { nodeName?: string; containers: Record<string, unknown>[] };
  spec.nodeName = settings.nodeName;
  for (const container of spec.containers) {
    container.image = settings.image;
    if (settings.fakeRuntime) {
      container.command = ['sh', '-c', 'echo serving; sleep 3600'];
      delete container.readinessProbe;
    }
  }
}

export function readWorkload(settings: WorkloadSettings, path = workloadPath): KubeObject[] {
  return loadWorkload(readFileSync(path, 'utf8'), settings);
}

/** Creates the objects through the registry (same validation and defaulting as HTTP). */
export function applyWorkload(server: ApiServer, objects: KubeObject[]): string[] {
  return objects.map((object) => {
    const rt = server.resource(object.apiVersion ?? 'v1', plurals[object.kind ?? ''] ?? '');
    const namespace = object.metadata.namespace ?? 'default';
    server.registry.create(rt, namespace, object);
    return `${object.kind?.toLowerCase()}/${object.metadata.name}`;
  });
}

/**
 * The multi-node box's workload: a ReplicaSet `web` with `replicas` pods made from the manifests'
 * first Pod (its labels, its spec without nodeName), placed by the API server's scheduler. Each
 * container asks for a little CPU and memory: the scheduler scores nodes by what is left
 * unrequested, so the pods spread over the nodes instead of piling on the first. The Services
 * stay as they are and select the ReplicaSet's pods by the same label.
 */
export function replicaSetWorkload(objects: KubeObject[], replicas: number): KubeObject[] {
  const template = objects.find((o) => o.kind === 'Pod');
  if (!template)
    throw new DemoError('INVALID_MANIFEST', 'kind', 'Pod', 'the workload has no Pod to replicate');
  const labels = template.metadata.labels ?? {};
  const spec = structuredClone(template.spec) as { nodeName?: string; containers: Record<string, unknown>[] };
  delete spec.nodeName;
  for (const container of spec.containers) {
    container.resources = { requests: { cpu: '50m', memory: '32Mi' } };
  }
  const name = (template.metadata.name ?? 'web').replace(/-\d+$/, '');
  const replicaSet: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: template.metadata.namespace ?? 'default', labels },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec } },
  };
  return [replicaSet, ...objects.filter((o) => o.kind !== 'Pod')];
}
