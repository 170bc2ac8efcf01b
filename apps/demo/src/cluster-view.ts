import type { ApiServer, KubeObject } from '@nodeagent/testing';

/** What the status table shows, read straight from the API server's registry. */
export interface ClusterView {
  nodes: {
    name: string;
    ready: string;
    /** `key=value:Effect` (or `key:Effect`), as kubectl describe lists them. */
    taints: string[];
    internalIP: string;
    podCIDR: string;
    runtime: string;
  }[];
  pods: { name: string; phase: string; ready: boolean; podIP: string; node: string; restarts: number }[];
  services: { name: string; type: string; clusterIP: string; ports: string; nodePorts: number[] }[];
  endpoints: { service: string; slice: string; addresses: { ip: string; ready: boolean; pod: string }[] }[];
}

/** The few wire fields the view reads (the registry holds plain JSON). */
interface Condition {
  type: string;
  status: string;
}
interface Obj extends KubeObject {
  spec?: {
    nodeName?: string;
    podCIDR?: string;
    taints?: { key: string; value?: string; effect: string }[];
    type?: string;
    clusterIP?: string;
    ports?: { port: number; nodePort?: number; protocol?: string }[];
  };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: Condition[];
    addresses?: { type: string; address: string }[];
    nodeInfo?: { containerRuntimeVersion?: string };
    containerStatuses?: { restartCount?: number }[];
  };
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean }; targetRef?: { name?: string } }[];
}

export function clusterView(server: ApiServer, namespace = 'default'): ClusterView {
  const list = (apiVersion: string, plural: string, ns?: string) =>
    server.registry.list(server.resource(apiVersion, plural), ns) as Obj[];
  return viewOf({
    nodes: list('v1', 'nodes'),
    pods: list('v1', 'pods', namespace),
    services: list('v1', 'services', namespace).filter((s) => s.metadata.name !== 'kubernetes'),
    slices: list('discovery.k8s.io/v1', 'endpointslices', namespace),
  });
}

export function viewOf(objects: { nodes: Obj[]; pods: Obj[]; services: Obj[]; slices: Obj[] }): ClusterView {
  return {
    nodes: objects.nodes.map((n) => ({
      name: n.metadata.name ?? '',
      ready: n.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
      taints: (n.spec?.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`),
      internalIP: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
      podCIDR: n.spec?.podCIDR ?? '',
      runtime: n.status?.nodeInfo?.containerRuntimeVersion ?? '',
    })),
    pods: objects.pods.map((p) => ({
      name: p.metadata.name ?? '',
      phase: p.status?.phase ?? 'Pending',
      ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      podIP: p.status?.podIP ?? '',
      node: p.spec?.nodeName ?? '',
      restarts: (p.status?.containerStatuses ?? []).reduce((sum, c) => sum + (c.restartCount ?? 0), 0),
    })),
    services: objects.services.map((s) => ({
      name: s.metadata.name ?? '',
      type: s.spec?.type ?? 'ClusterIP',
      clusterIP: s.spec?.clusterIP ?? '',
      ports: (s.spec?.ports ?? [])
        .map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`)
        .join(','),
      nodePorts: (s.spec?.ports ?? []).flatMap((p) => (p.nodePort ? [p.nodePort] : [])),
    })),
    endpoints: objects.slices.map((e) => ({
      service: e.metadata.labels?.['kubernetes.io/service-name'] ?? '',
      slice: e.metadata.name ?? '',
      addresses: (e.endpoints ?? []).flatMap((ep) =>
        (ep.addresses ?? []).map((ip: string) => ({
          ip,
          ready: ep.conditions?.ready !== false,
          pod: ep.targetRef?.name ?? '',
        })),
      ),
    })),
  };
}

/** Ready pods that serve the Service, by name (what the data-path check expects to hear from). */
export function readyEndpointPods(view: ClusterView, service: string): string[] {
  const pods = view.endpoints
    .filter((e) => e.service === service)
    .flatMap((e) => e.addresses.filter((a) => a.ready).map((a) => a.pod));
  return [...new Set(pods)].sort();
}

function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** The status table, kubectl-style sections. */
export function renderClusterView(view: ClusterView): string {
  const out: string[] = [];
  out.push(
    ...table(
      ['NODE', 'READY', 'TAINTS', 'INTERNAL-IP', 'POD-CIDR', 'RUNTIME'],
      view.nodes.map((n) => [
        n.name,
        n.ready,
        n.taints.join(',') || '<none>',
        n.internalIP,
        n.podCIDR || '<none>',
        n.runtime,
      ]),
    ),
    '',
  );
  out.push(
    ...table(
      ['POD', 'PHASE', 'READY', 'IP', 'NODE', 'RESTARTS'],
      view.pods.map((p) => [
        p.name,
        p.phase,
        p.ready ? 'yes' : 'no',
        p.podIP || '<none>',
        p.node || '<none>',
        String(p.restarts),
      ]),
    ),
    '',
  );
  out.push(
    ...table(
      ['SERVICE', 'TYPE', 'CLUSTER-IP', 'PORTS'],
      view.services.map((s) => [s.name, s.type, s.clusterIP, s.ports]),
    ),
    '',
  );
  out.push(
    ...table(
      ['ENDPOINTSLICE', 'SERVICE', 'ENDPOINTS'],
      view.endpoints.map((e) => [
        e.slice,
        e.service,
        e.addresses.map((a) => `${a.ip}(${a.pod}${a.ready ? '' : ',not ready'})`).join(' ') || '<none>',
      ]),
    ),
  );
  return `${out.join('\n')}\n`;
}
