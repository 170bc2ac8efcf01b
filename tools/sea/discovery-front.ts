// A thin HTTP front for the in-process API server that additionally advertises the resources a
// deployment manifest uses but the test server does not serve (apps/v1 DaemonSets,
// rbac.authorization.k8s.io/v1), merged into the server's own discovery where it serves the group,
// so `kubectl apply --dry-run=client` can map every kind. Objects of those resources never exist
// (GET answers 404, as for a fresh cluster); everything else is passed through unchanged.
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ExtraResource {
  groupVersion: string;
  kind: string;
  name: string;
  namespaced: boolean;
}

/** The kinds in deploy/ that the in-process server lacks. */
export const DEPLOY_EXTRA_RESOURCES: ExtraResource[] = [
  { groupVersion: 'apps/v1', kind: 'DaemonSet', name: 'daemonsets', namespaced: true },
  {
    groupVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    name: 'clusterroles',
    namespaced: false,
  },
  {
    groupVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    name: 'clusterrolebindings',
    namespaced: false,
  },
];

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export interface DiscoveryFront {
  url: string;
  /** Requests that reached the extra groups (method and path), for assertions. */
  extraRequests: string[];
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startDiscoveryFront(
  upstream: string,
  extra = DEPLOY_EXTRA_RESOURCES,
): Promise<DiscoveryFront> {
  const groupVersions = [...new Set(extra.map((r) => r.groupVersion))];
  const extraRequests: string[] = [];

  const forward = async (
    req: IncomingMessage,
    res: ServerResponse,
    rewrite?: (body: unknown) => unknown,
    status?: number,
  ) => {
    const body = await readBody(req);
    const target = new URL(req.url ?? '/', upstream);
    const headers = { ...req.headers, host: target.host };
    // Legacy discovery documents are what we know how to extend.
    if (rewrite) headers.accept = 'application/json';
    const up = request(target, { method: req.method, headers }, (upRes) => {
      if (!rewrite) {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        return;
      }
      void readBody(upRes).then((data) => {
        try {
          sendJson(res, status ?? upRes.statusCode ?? 502, rewrite(JSON.parse(data.toString('utf8'))));
        } catch {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.end(data);
        }
      });
    });
    up.on('error', (err) =>
      sendJson(res, 502, { kind: 'Status', status: 'Failure', message: err.message, code: 502 }),
    );
    up.end(body);
  };

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://front').pathname.replace(/\/+$/, '');
    if (path === '/apis') {
      void forward(req, res, (list) => {
        const l = list as { kind?: string; groups?: unknown[] };
        if (l.kind !== 'APIGroupList' || !Array.isArray(l.groups)) return list;
        // A group the server already serves (apps/v1 since the control plane's ReplicaSets) is
        // listed once: kubectl refuses a kind that two listed groups both claim.
        const served = new Set(l.groups.map((g) => (g as { name?: string }).name));
        const groups = groupVersions
          .map((gv) => gv.split('/') as [string, string])
          .filter(([name]) => !served.has(name))
          .map(([name, version]) => {
            const v = { groupVersion: `${name}/${version}`, version };
            return { name, versions: [v], preferredVersion: v };
          });
        return { ...l, groups: [...l.groups, ...groups] };
      });
      return;
    }
    const gv = groupVersions.find((g) => path === `/apis/${g}` || path.startsWith(`/apis/${g}/`));
    if (!gv) {
      void forward(req, res);
      return;
    }
    const resources = extra
      .filter((r) => r.groupVersion === gv)
      .map((r) => ({
        name: r.name,
        singularName: r.kind.toLowerCase(),
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: VERBS,
      }));
    if (path === `/apis/${gv}`) {
      extraRequests.push(`${req.method} ${path}`);
      // The server's own resources of this group-version (if it serves it) plus the extra ones.
      void forward(
        req,
        res,
        (list) => {
          const l = list as { kind?: string; resources?: unknown[] };
          const own = l.kind === 'APIResourceList' && Array.isArray(l.resources) ? l.resources : [];
          return {
            kind: 'APIResourceList',
            apiVersion: 'v1',
            groupVersion: gv,
            resources: [...own, ...resources],
          };
        },
        200,
      );
      return;
    }
    // Only the extra resources' paths are answered here; the server's own go through.
    const rest = path.slice(`/apis/${gv}/`.length).split('/');
    const plural = rest[0] === 'namespaces' ? rest[2] : rest[0];
    if (!resources.some((r) => r.name === plural)) {
      void forward(req, res);
      return;
    }
    extraRequests.push(`${req.method} ${path}`);
    sendJson(res, 404, {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'NotFound',
      message: `${path} not found`,
      code: 404,
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    extraRequests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
