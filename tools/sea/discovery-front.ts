// A thin HTTP front for the in-process API server that additionally advertises the API groups a
// deployment manifest uses but the test server does not serve (apps/v1, rbac.authorization.k8s.io/v1),
// so `kubectl apply --dry-run=client` can map every kind. Objects of those groups never exist
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

  const forward = async (req: IncomingMessage, res: ServerResponse, rewrite?: (body: unknown) => unknown) => {
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
          sendJson(res, upRes.statusCode ?? 502, rewrite(JSON.parse(data.toString('utf8'))));
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
        const groups = groupVersions.map((gv) => {
          const [name, version] = gv.split('/') as [string, string];
          const v = { groupVersion: gv, version };
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
    extraRequests.push(`${req.method} ${path}`);
    if (path === `/apis/${gv}`) {
      sendJson(res, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: gv,
        resources: extra
          .filter((r) => r.groupVersion === gv)
          .map((r) => ({
            name: r.name,
            singularName: r.kind.toLowerCase(),
            namespaced: r.namespaced,
            kind: r.kind,
            verbs: VERBS,
          })),
      });
      return;
    }
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
