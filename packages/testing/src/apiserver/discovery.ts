import { REVIEW_RESOURCES, reviewResourceList } from './access-review-requests';
import { RESOURCE_TYPES, type ResourceType, VERBS } from './resource-types';

/** Version the fake server reports; kubectl only warns on skew. */
export const SERVER_VERSION = {
  major: '1',
  minor: '36',
  gitVersion: 'v1.36.3-nodeagent',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  // No Go build stands behind this server: the build fields say so rather than invent one.
  buildDate: '1970-01-01T00:00:00Z',
  goVersion: '',
  compiler: 'gc',
  platform: 'linux/amd64',
};

function groups(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of RESOURCE_TYPES) {
    if (!r.group) continue;
    const versions = out.get(r.group) ?? [];
    if (!versions.includes(r.version)) versions.push(r.version);
    out.set(r.group, versions);
  }
  // Create-only, storage-less review resources (access-review-requests.ts).
  for (const r of REVIEW_RESOURCES) if (!out.has(r.group)) out.set(r.group, [r.version]);
  return out;
}

export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupObject(name: string, versions: string[]) {
  const gv = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: gv, preferredVersion: gv[0] };
}

export function apiGroupList() {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups()].map(([name, versions]) => groupObject(name, versions)),
  };
}

export function apiGroup(name: string) {
  const versions = groups().get(name);
  return versions ? { kind: 'APIGroup', apiVersion: 'v1', ...groupObject(name, versions) } : undefined;
}

/** Kinds of subresources whose objects are not the parent's kind (as upstream discovery lists them). */
const subresourceKinds: Record<string, string> = {
  binding: 'Binding',
  eviction: 'Eviction',
  token: 'TokenRequest',
  exec: 'PodExecOptions',
  attach: 'PodAttachOptions',
  portforward: 'PodPortForwardOptions',
  proxy: 'NodeProxyOptions',
  scale: 'Scale',
};

const subresourceVerbs: Record<string, string[]> = {
  status: ['get', 'patch', 'update'],
  scale: ['get', 'patch', 'update'],
  ephemeralcontainers: ['get', 'patch', 'update'],
  resize: ['get', 'patch', 'update'],
  log: ['get'],
  exec: ['create', 'get'],
  attach: ['create', 'get'],
  portforward: ['create', 'get'],
  proxy: ['create', 'delete', 'get', 'patch', 'update'],
};

function resourceEntries(r: ResourceType) {
  const main = {
    name: r.plural,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind: r.kind,
    verbs: VERBS,
    ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
  };
  const subs = r.subresources.map((s) => {
    const kind = subresourceKinds[s] ?? r.kind;
    const group =
      s === 'eviction'
        ? { group: 'policy', version: 'v1' }
        : s === 'token'
          ? { group: 'authentication.k8s.io', version: 'v1' }
          : s === 'scale'
            ? { group: 'autoscaling', version: 'v1' }
            : {};
    const verbs = subresourceVerbs[s] ?? ['create'];
    return { name: `${r.plural}/${s}`, singularName: '', namespaced: r.namespaced, kind, verbs, ...group };
  });
  return [main, ...subs];
}

export function apiResourceList(group: string, version: string) {
  const reviews = reviewResourceList(group, version);
  if (reviews) return reviews;
  const rs = RESOURCE_TYPES.filter((r) => r.group === group && r.version === version);
  if (rs.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: rs.flatMap(resourceEntries),
  };
}
