import type { KubeObject } from './kube-object';

type Obj = Record<string, unknown>;

/** Fill the defaults the real server's defaulting functions set for the fields agents read. */
export function applyDefaults(obj: KubeObject): void {
  switch (obj.kind) {
    case 'Pod':
      defaultPod(obj);
      break;
    case 'Service':
      defaultService(obj);
      break;
    case 'Namespace':
      obj.spec = { finalizers: ['kubernetes'], ...((obj.spec as Obj) ?? {}) };
      obj.status = { phase: 'Active', ...((obj.status as Obj) ?? {}) };
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
    case 'EndpointSlice':
      for (const ep of (obj.endpoints as Obj[] | undefined) ?? []) {
        const conditions = (ep.conditions as Obj | undefined) ?? {};
        ep.conditions = conditions;
      }
      for (const p of (obj.ports as Obj[] | undefined) ?? []) if (!p.protocol) p.protocol = 'TCP';
      break;
  }
}

function defaultPod(pod: KubeObject): void {
  const spec = (pod.spec ?? {}) as Obj;
  pod.spec = spec;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.serviceAccountName ??= 'default';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  for (const c of [...((spec.containers as Obj[]) ?? []), ...((spec.initContainers as Obj[]) ?? [])]) {
    if (!c || typeof c !== 'object') continue;
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    const image = String(c.image ?? '');
    c.imagePullPolicy ??= image.endsWith(':latest') || !image.includes(':') ? 'Always' : 'IfNotPresent';
    c.resources ??= {};
    for (const p of (c.ports as Obj[]) ?? []) p.protocol ??= 'TCP';
  }
  const status = (pod.status ?? {}) as Obj;
  pod.status = status;
  status.phase ??= 'Pending';
  status.qosClass ??= 'BestEffort';
}

function defaultService(svc: KubeObject): void {
  const spec = (svc.spec ?? {}) as Obj;
  svc.spec = spec;
  spec.type ??= 'ClusterIP';
  if (spec.type === 'ExternalName') return;
  spec.sessionAffinity ??= 'None';
  spec.internalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
  for (const p of (spec.ports as Obj[]) ?? []) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
  svc.status ??= { loadBalancer: {} };
}

/** Sequential ClusterIP allocator over the default service CIDR, skipping addresses in use. */
export function allocateClusterIP(serviceCIDR: string, used: Set<string>): string {
  const [base, bitsText] = serviceCIDR.split('/');
  const bits = Number(bitsText);
  const start = (base as string).split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - bits);
  // .0 is the network address and .1 is the kubernetes service, as upstream reserves.
  for (let i = 2; i < size - 1; i++) {
    const n = start + i;
    const ip = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    if (!used.has(ip)) return ip;
  }
  throw new Error(`service CIDR ${serviceCIDR} is exhausted`);
}

export function allocateNodePort(used: Set<number>): number {
  for (let p = 30000; p <= 32767; p++) if (!used.has(p)) return p;
  throw new Error('node port range 30000-32767 is exhausted');
}
