import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HollowCluster, inProcessUsage, runHollowNodes } from '../src/index';
import { nodeReady } from './node-ready';
import { until } from './until';

// --client-certificates: three hollow nodes given only a bootstrap token each send a CSR as the
// kubelet's TLS bootstrap does, get their certificates from the in-process API server's approver
// and signer, and from then on the server authenticates every request of node i as
// system:node:hollow-node-i in system:nodes: three distinct nodes, as a Node authorizer needs.

let api: ApiServer;
let cluster: HollowCluster;
const names = ['hollow-node-0', 'hollow-node-1', 'hollow-node-2'];
const dir = mkdtempSync(join(tmpdir(), `na-hollow-certs-${process.pid}-`));
/** Who the server authenticated, for each request it received. */
const seen: { user: string; groups: string[]; method: string; path: string }[] = [];
let bootstrapUser = '';

type Obj = {
  metadata?: { name?: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

const ready = (name: string) => nodeReady(api, name);

const csrs = () =>
  api.registry.list(api.resource('certificates.k8s.io/v1', 'certificatesigningrequests'), undefined) as Obj[];

beforeAll(async () => {
  api = await startApiServer({
    tls: true,
    audit: (user, method, path) => seen.push({ user: user.username, groups: user.groups, method, path }),
  });
  const token = api.createBootstrapToken();
  bootstrapUser = `system:bootstrap:${token.split('.')[0]}`;
  const path = join(dir, 'bootstrap-kubeconfig');
  api.writeBootstrapKubeconfig(path, token);
  const bootstrap = new KubeConfig();
  bootstrap.loadFromFile(path);
  cluster = await runHollowNodes({
    kubeConfig: bootstrap,
    nodes: 3,
    clientCertificates: true,
    log: () => {},
    apiServerUsage: inProcessUsage(() => api.openWatches),
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('--client-certificates against the in-process API server over HTTPS', () => {
  it('each node sends one kubelet client CSR with the bootstrap token, approved and issued', async () => {
    expect(await until(() => names.every(ready), 60_000)).toBe(true);
    const sent = csrs();
    expect(sent).toHaveLength(3);
    for (const csr of sent) {
      expect(csr.metadata?.name).toMatch(/^node-csr-/);
      expect(csr.spec).toMatchObject({
        signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
        username: bootstrapUser,
      });
      expect(typeof csr.status?.certificate).toBe('string');
    }
  });

  it('the server sees three distinct nodes: node i is system:node:<its name> in system:nodes', () => {
    for (const name of names) {
      // Its Lease and its Node are written by itself, authenticated by its own certificate.
      const own = seen.filter((r) => r.path.endsWith(`/leases/${name}`) || r.path.endsWith(`/nodes/${name}`));
      expect(own.length).toBeGreaterThan(0);
      expect(new Set(own.map((r) => r.user))).toEqual(new Set([`system:node:${name}`]));
      expect(own.every((r) => r.groups.includes('system:nodes'))).toBe(true);
    }
    const nodeUsers = new Set(seen.filter((r) => r.groups.includes('system:nodes')).map((r) => r.user));
    expect(nodeUsers).toEqual(new Set(names.map((n) => `system:node:${n}`)));
    // The bootstrap token did nothing but the CSRs; no request went as the admin either.
    const asBootstrap = seen.filter((r) => r.user === bootstrapUser);
    expect(asBootstrap.length).toBeGreaterThanOrEqual(3);
    expect(asBootstrap.every((r) => r.path.startsWith('/apis/certificates.k8s.io/v1/'))).toBe(true);
    expect(seen.filter((r) => r.groups.includes('system:masters'))).toEqual([]);
  });

  it('a restarted node reuses its valid certificate: no new CSR, still its own user', async () => {
    const before = seen.length;
    const wave = await cluster.restartWave();
    expect(wave.nodes).toEqual(['hollow-node-0']);
    expect(wave.secondsToWatchesBack).not.toBeNull();
    expect(csrs()).toHaveLength(3);
    const own = () =>
      seen
        .slice(before)
        .filter((r) => r.path.endsWith('/nodes/hollow-node-0') || r.path.endsWith('/leases/hollow-node-0'));
    // The restarted node's registration check and Lease come once its agents are up again.
    expect(await until(() => own().length > 0, 30_000)).toBe(true);
    const after = own();
    expect(new Set(after.map((r) => r.user))).toEqual(new Set(['system:node:hollow-node-0']));
  });
});
