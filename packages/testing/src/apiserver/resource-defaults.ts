import { defaultDraObject } from './dra-defaults';
import type { KubeObject } from './kube-object';

import { type AdmissionOptions, admitPodCreate } from './pod-admission';
import { defaultPod } from './pod-defaults';

type Obj = Record<string, unknown>;

/**
 * Fill the defaults the real server's defaulting functions set (pkg/apis/core/v1/defaults.go,
 * discovery/v1 and the generated defaulters) for the kinds served here. On create, the pod
 * admission plugins a default kube-apiserver runs add their part too (pod-admission.ts).
 */
export function applyDefaults(
  obj: KubeObject,
  operation: 'create' | 'update' = 'update',
  admission: AdmissionOptions = {},
): void {
  switch (obj.kind) {
    case 'Pod':
      defaultPod(obj);
      if (operation === 'create') admitPodCreate(obj, admission);
      break;
    case 'Service':
      defaultService(obj);
      break;
    case 'Namespace':
      // SetDefaults_Namespace labels every named namespace with its name.
      if (obj.metadata.name)
        obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name };
      obj.spec = { finalizers: ['kubernetes'], ...((obj.spec as Obj) ?? {}) };
      obj.status = { phase: 'Active', ...((obj.status as Obj) ?? {}) };
      break;
    case 'Node':
      defaultNode(obj);
      break;
    case 'Endpoints':
      for (const subset of (obj.subsets as Obj[] | undefined) ?? [])
        for (const p of (subset.ports as Obj[] | undefined) ?? []) p.protocol ||= 'TCP';
      break;
    case 'Secret':
      if (!obj.type) obj.type = 'Opaque';
      if (obj.stringData && typeof obj.stringData === 'object') {
        const data = { ...((obj.data as Record<string, string>) ?? {}) };
        for (const [k, v] of Object.entries(obj.stringData as Record<string, string>)) {
          data[k] = Buffer.from(String(v)).toString('base64');
        }
        obj.data = data;
        delete obj.stringData;
      }
      break;
    case 'ReplicaSet': {
      // apps/v1 SetDefaults_ReplicaSet: replicas 1; the template's pod spec gets pod defaults.
      const spec = (obj.spec ?? {}) as Obj;
      spec.replicas ??= 1;
      spec.minReadySeconds ??= 0;
      obj.spec = spec;
      break;
    }
    case 'Deployment': {
      // apps/v1 SetDefaults_Deployment.
      const spec = (obj.spec ?? {}) as Obj;
      spec.replicas ??= 1;
      spec.minReadySeconds ??= 0;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      const strategy = (spec.strategy ?? {}) as Obj;
      strategy.type ??= 'RollingUpdate';
      if (strategy.type === 'RollingUpdate') {
        const ru = (strategy.rollingUpdate ?? {}) as Obj;
        ru.maxUnavailable ??= '25%';
        ru.maxSurge ??= '25%';
        strategy.rollingUpdate = ru;
      }
      spec.strategy = strategy;
      obj.spec = spec;
      break;
    }
    case 'DeviceClass':
    case 'ResourceClaim':
    case 'ResourceClaimTemplate':
    case 'ResourceSlice':
      defaultDraObject(obj);
      break;
    case 'EndpointSlice':
      for (const ep of (obj.endpoints as Obj[] | undefined) ?? []) {
        // conditions is a struct, never omitted.
        const conditions = (ep.conditions as Obj | undefined) ?? {};
        ep.conditions = conditions;
      }
      // SetDefaults_EndpointPort: name and protocol are pointers defaulted to "" and TCP.
      for (const p of (obj.ports as Obj[] | undefined) ?? []) {
        p.name ??= '';
        p.protocol ??= 'TCP';
      }
      break;
  }
}

/** SetDefaults_NodeStatus: allocatable defaults to capacity. */
function defaultNode(node: KubeObject): void {
  const status = node.status as Obj | undefined;
  if (status?.capacity && status.allocatable === undefined)
    status.allocatable = { ...(status.capacity as Obj) };
}

/** SetDefaults_Service. */
function defaultService(svc: KubeObject): void {
  const spec = (svc.spec ?? {}) as Obj;
  svc.spec = spec;
  spec.sessionAffinity ||= 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    const timeout = ((spec.sessionAffinityConfig as Obj | undefined)?.clientIP as Obj | undefined)
      ?.timeoutSeconds;
    // DefaultClientIPServiceAffinitySeconds: three hours.
    if (timeout === undefined || timeout === null)
      spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  spec.type ||= 'ClusterIP';
  for (const p of (spec.ports as Obj[]) ?? []) {
    p.protocol ||= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  // service.ExternallyAccessible: NodePort, LoadBalancer, or ClusterIP with externalIPs.
  const externallyAccessible =
    spec.type === 'NodePort' ||
    spec.type === 'LoadBalancer' ||
    (spec.type === 'ClusterIP' && Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0);
  if (externallyAccessible) spec.externalTrafficPolicy ||= 'Cluster';
  if (spec.type !== 'ExternalName') spec.internalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') {
    spec.allocateLoadBalancerNodePorts ??= true;
    const ingress = ((svc.status as Obj | undefined)?.loadBalancer as Obj | undefined)?.ingress;
    for (const ing of (ingress as Obj[] | undefined) ?? []) if (ing.ip && !ing.ipMode) ing.ipMode = 'VIP';
  }
  svc.status ??= { loadBalancer: {} };
}
