import { csrConditionText, csrRequestedDuration } from './csr-strategy';
import type { KubeObject } from './kube-object';

/** kubectl asks for server-side printing with `Accept: application/json;as=Table;...`. */
export function wantsTable(accept: string): boolean {
  return accept.split(',')[0]?.includes('as=Table') ?? false;
}

type Obj = Record<string, unknown>;

interface Column {
  name: string;
  /** 0: always shown; 1: only with `-o wide`. */
  priority: 0 | 1;
  cell: (o: KubeObject, now: Date) => string | number;
}

function age(o: KubeObject, now: Date): string {
  const created = o.metadata.creationTimestamp;
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const spec = (o: KubeObject): Obj => (o.spec ?? {}) as Obj;
const status = (o: KubeObject): Obj => (o.status ?? {}) as Obj;
const none = (v: unknown): string => (v === undefined || v === null || v === '' ? '<none>' : String(v));

const NAME: Column = { name: 'Name', priority: 0, cell: (o) => o.metadata.name ?? '' };
const AGE: Column = { name: 'Age', priority: 0, cell: age };

function podStatus(o: KubeObject): string {
  if (o.metadata.deletionTimestamp) return 'Terminating';
  const st = status(o);
  for (const cs of (st.containerStatuses as Obj[] | undefined) ?? []) {
    const waiting = (cs.state as Obj | undefined)?.waiting as Obj | undefined;
    if (waiting?.reason) return String(waiting.reason);
  }
  return String(st.reason ?? st.phase ?? 'Pending');
}

function servicePorts(o: KubeObject): string {
  const ports = (spec(o).ports as Obj[] | undefined) ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function resourceClaimState(o: KubeObject): string {
  const states: string[] = [];
  if (o.metadata.deletionTimestamp) states.push('deleted');
  if (!status(o).allocation) {
    if (!o.metadata.deletionTimestamp) states.push('pending');
  } else {
    states.push('allocated');
    if (((status(o).reservedFor as unknown[] | undefined) ?? []).length > 0) states.push('reserved');
  }
  return states.join(',');
}

/** The columns the real server's printers show for the kinds node agents care about. */
const COLUMNS: Record<string, Column[]> = {
  Pod: [
    NAME,
    {
      name: 'Ready',
      priority: 0,
      cell: (o) => {
        const total = ((spec(o).containers as unknown[] | undefined) ?? []).length;
        const ready = ((status(o).containerStatuses as Obj[] | undefined) ?? []).filter(
          (c) => c.ready,
        ).length;
        return `${ready}/${total}`;
      },
    },
    { name: 'Status', priority: 0, cell: podStatus },
    {
      name: 'Restarts',
      priority: 0,
      cell: (o) =>
        ((status(o).containerStatuses as Obj[] | undefined) ?? []).reduce(
          (n, c) => n + Number(c.restartCount ?? 0),
          0,
        ),
    },
    AGE,
    { name: 'IP', priority: 1, cell: (o) => none(status(o).podIP) },
    { name: 'Node', priority: 1, cell: (o) => none(spec(o).nodeName) },
  ],
  Node: [
    NAME,
    {
      name: 'Status',
      priority: 0,
      cell: (o) => {
        const ready = ((status(o).conditions as Obj[] | undefined) ?? []).find((c) => c.type === 'Ready');
        // As kubectl's node printer: Ready=False and Ready=Unknown both print NotReady; only a
        // node that has no Ready condition at all prints Unknown.
        const base = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
        return spec(o).unschedulable ? `${base},SchedulingDisabled` : base;
      },
    },
    {
      name: 'Roles',
      priority: 0,
      cell: (o) => {
        const roles = Object.keys(o.metadata.labels ?? {})
          .filter((k) => k.startsWith('node-role.kubernetes.io/'))
          .map((k) => k.slice('node-role.kubernetes.io/'.length));
        return roles.length > 0 ? roles.join(',') : '<none>';
      },
    },
    AGE,
    {
      name: 'Version',
      priority: 0,
      cell: (o) => String((status(o).nodeInfo as Obj | undefined)?.kubeletVersion ?? ''),
    },
    {
      name: 'Internal-IP',
      priority: 1,
      cell: (o) =>
        none(
          ((status(o).addresses as Obj[] | undefined) ?? []).find((a) => a.type === 'InternalIP')?.address,
        ),
    },
  ],
  Service: [
    NAME,
    { name: 'Type', priority: 0, cell: (o) => String(spec(o).type ?? 'ClusterIP') },
    { name: 'Cluster-IP', priority: 0, cell: (o) => none(spec(o).clusterIP) },
    {
      name: 'External-IP',
      priority: 0,
      cell: (o) => {
        const ingress = (
          (((status(o).loadBalancer as Obj | undefined)?.ingress as Obj[] | undefined) ?? []).map(
            (i) => i.ip ?? i.hostname,
          ) as string[]
        ).concat((spec(o).externalIPs as string[] | undefined) ?? []);
        return ingress.length > 0
          ? ingress.join(',')
          : spec(o).type === 'LoadBalancer'
            ? '<pending>'
            : '<none>';
      },
    },
    { name: 'Port(s)', priority: 0, cell: servicePorts },
    AGE,
    {
      name: 'Selector',
      priority: 1,
      cell: (o) => {
        const sel = Object.entries((spec(o).selector as Record<string, string> | undefined) ?? {});
        return sel.length > 0 ? sel.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
      },
    },
  ],
  EndpointSlice: [
    NAME,
    { name: 'AddressType', priority: 0, cell: (o) => String(o.addressType ?? '') },
    {
      name: 'Ports',
      priority: 0,
      cell: (o) => {
        const ports = ((o.ports as Obj[] | undefined) ?? []).map((p) => String(p.port));
        return ports.length > 0 ? ports.join(',') : '<unset>';
      },
    },
    {
      name: 'Endpoints',
      priority: 0,
      cell: (o) => {
        const addrs = ((o.endpoints as Obj[] | undefined) ?? []).flatMap(
          (e) => (e.addresses as string[]) ?? [],
        );
        if (addrs.length === 0) return '<unset>';
        return addrs.length > 3
          ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...`
          : addrs.join(',');
      },
    },
    AGE,
  ],
  Deployment: [
    NAME,
    {
      name: 'Ready',
      priority: 0,
      cell: (o) => `${Number(status(o).readyReplicas ?? 0)}/${Number(spec(o).replicas ?? 0)}`,
    },
    { name: 'Up-to-date', priority: 0, cell: (o) => Number(status(o).updatedReplicas ?? 0) },
    { name: 'Available', priority: 0, cell: (o) => Number(status(o).availableReplicas ?? 0) },
    AGE,
  ],
  ReplicaSet: [
    NAME,
    { name: 'Desired', priority: 0, cell: (o) => Number(spec(o).replicas ?? 0) },
    { name: 'Current', priority: 0, cell: (o) => Number(status(o).replicas ?? 0) },
    { name: 'Ready', priority: 0, cell: (o) => Number(status(o).readyReplicas ?? 0) },
    AGE,
    {
      name: 'Containers',
      priority: 1,
      cell: (o) =>
        (
          (((spec(o).template as Obj | undefined)?.spec as Obj | undefined)?.containers as
            | Obj[]
            | undefined) ?? []
        )
          .map((c) => String(c.name))
          .join(','),
    },
    {
      name: 'Images',
      priority: 1,
      cell: (o) =>
        (
          (((spec(o).template as Obj | undefined)?.spec as Obj | undefined)?.containers as
            | Obj[]
            | undefined) ?? []
        )
          .map((c) => String(c.image))
          .join(','),
    },
    {
      name: 'Selector',
      priority: 1,
      cell: (o) =>
        Object.entries(((spec(o).selector as Obj | undefined)?.matchLabels as Record<string, string>) ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
    },
  ],
  // kubectl get events: LAST SEEN, TYPE, REASON, OBJECT (kind/name, kind lowercased), MESSAGE.
  Event: [
    {
      name: 'Last Seen',
      priority: 0,
      cell: (o, now) => {
        const seen = (o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp) as string | undefined;
        return seen ? age({ metadata: { creationTimestamp: seen } }, now) : '<unknown>';
      },
    },
    { name: 'Type', priority: 0, cell: (o) => String(o.type ?? '') },
    { name: 'Reason', priority: 0, cell: (o) => String(o.reason ?? '') },
    {
      name: 'Object',
      priority: 0,
      cell: (o) => {
        const ref = (o.involvedObject ?? {}) as Obj;
        return `${String(ref.kind ?? '').toLowerCase()}/${String(ref.name ?? '')}`;
      },
    },
    { name: 'Message', priority: 0, cell: (o) => String(o.message ?? '') },
  ],
  // printers.go: a claim's State is deleted/pending/allocated[,reserved].
  ResourceClaim: [NAME, { name: 'State', priority: 0, cell: (o) => resourceClaimState(o) }, AGE],
  ResourceSlice: [
    NAME,
    { name: 'Node', priority: 0, cell: (o) => none(spec(o).nodeName) },
    { name: 'Driver', priority: 0, cell: (o) => String(spec(o).driver ?? '') },
    { name: 'Pool', priority: 0, cell: (o) => String((spec(o).pool as Obj | undefined)?.name ?? '') },
    AGE,
  ],
  Namespace: [NAME, { name: 'Status', priority: 0, cell: (o) => String(status(o).phase ?? 'Active') }, AGE],
  Lease: [NAME, { name: 'Holder', priority: 0, cell: (o) => String(spec(o).holderIdentity ?? '') }, AGE],
  CertificateSigningRequest: [
    NAME,
    AGE,
    { name: 'SignerName', priority: 0, cell: (o) => String(spec(o).signerName ?? '') },
    { name: 'Requestor', priority: 0, cell: (o) => String(spec(o).username ?? '') },
    { name: 'RequestedDuration', priority: 0, cell: (o) => csrRequestedDuration(o) },
    { name: 'Condition', priority: 0, cell: (o) => csrConditionText(o) },
  ],
};

/** A meta.k8s.io/v1 Table, as the real server's table convertors produce for kubectl. */
export function tableFor(kind: string, items: KubeObject[], metadata: Record<string, unknown>, now: Date) {
  const columns = COLUMNS[kind] ?? [NAME, AGE];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type:
        ['Restarts', 'Desired', 'Current', 'Up-to-date', 'Available'].includes(c.name) ||
        (kind === 'ReplicaSet' && c.name === 'Ready')
          ? 'integer'
          : 'string',
      format: c === NAME ? 'name' : '',
      description: c.name,
      priority: c.priority,
    })),
    rows: items.map((o) => ({
      cells: columns.map((c) => c.cell(o, now)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
