/**
 * Runs INSIDE the micro-VM (root, a kernel with IPVS, dummy and ipset), itself inside the "node"
 * namespace (argv[2]) where it runs the ipvs proxier fed by the in-process API server; a client
 * namespace and two backend namespaces serving HTTP with busybox httpd (node would take seconds
 * per backend under TCG); the client's requests are busybox wget's (guest-http.ts).
 * Prints one line `IPVS-SCENARIO <json>`; ipvs-packets.test.ts does the asserting.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { openIpvs } from '@nodeagent/ipvs';
import { type Clock, systemClock } from '@nodeagent/primitives';
import { openNetns } from '@nodeagent/testing';
import { guestSpeedFactor } from '../../../../tools/vm/speed';
import { execIptables } from '../../src/iptables/index';
import {
  cleanupIpvs,
  execIpsetLayer,
  execLinkLayer,
  formatIpvsTable,
  IpvsProxier,
  readIpvsTable,
} from '../../src/ipvs/index';
import { execSysctlLayer } from '../../src/runtime/index';
import { service, slice } from '../fixtures';
import { eventually, type ProxyCluster, startProxyCluster } from './cluster-fixtures';
import { httpGet } from './guest-http';
import { createStarTopology, type Star } from './star-topology';

const NODE = 'node-a';
const nodeNetns = process.argv[2] ?? '';
const DRAIN_TIMEOUT_MS = 60_000;

/** The real clock, but the scenario can jump it forward (to pass the drain timeout at once). */
const skew = { ms: 0 };
const skewedClock: Clock = { ...systemClock, now: () => Date.now() + skew.ms };
// The node's address on the client's link (star-topology.ts).
const NODE_IP = '10.250.1.1';
// nodeStartMs: how long Node took to load this bundle before its first line ran (most of it under
// TCG); guestUptimeMs: the guest's clock then, which also holds the boot and the modprobe before.
const result: Record<string, unknown> = {
  guestUptimeMs: Math.round(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000),
  nodeStartMs: Math.round(process.uptime() * 1000),
};
const t0 = Date.now();
const mark = (what: string) => {
  (result.timings as Record<string, number>)[what] = Date.now() - t0;
};
result.timings = {};

async function main(): Promise<void> {
  let star: Star | undefined;
  // This process's own namespace (made by ipvs-packets.test.ts's shell): the proxier's node.
  const node = openNetns(nodeNetns);
  const held: ChildProcess[] = [];
  let cluster: ProxyCluster | undefined;
  let proxier: IpvsProxier | undefined;
  let ipvsHandle: Awaited<ReturnType<typeof openIpvs>> | undefined;
  try {
    star = await createStarTopology({ purpose: 'ipvs', node });
    const { client } = star;
    // This process is in the node's namespace: its own /proc/sys/net is the node's.
    writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    const backends = star.backends.map((b, i) => ({ name: `backend-${i}`, ip: b.ip, netns: b.netns }));
    for (const b of backends) {
      const dir = `/tmp/${b.netns.name}-www`;
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${dir}/index.html`, b.name);
      b.netns.spawn('busybox', ['httpd', '-f', '-p', '8080', '-h', dir], { stdio: 'ignore' });
    }
    // A host service on the node itself: VIPs must not expose it (KUBE-IPVS-FILTER).
    const nodeDir = `/tmp/${node.name}-www`;
    mkdirSync(nodeDir, { recursive: true });
    writeFileSync(`${nodeDir}/index.html`, 'node-host-port');
    node.spawn('busybox', ['httpd', '-f', '-p', '9999', '-h', nodeDir], { stdio: 'ignore' });
    mark('topology');

    // From the client namespace, with busybox wget (guest-http.ts).
    const get = (url: string) => httpGet(client, url);
    // This process is in the node's namespace: the IPVS handle is its own (no relay process)
    // and the proxier's commands run here with no namespace switch in front of each.
    ipvsHandle = await openIpvs();
    mark('ipvsOpen');
    const kernel = {
      ipvs: ipvsHandle,
      link: execLinkLayer(),
      ipset: execIpsetLayer(),
      iptables: execIptables({ family: 'IPv4' }),
      sysctl: execSysctlLayer(),
    };
    proxier = new IpvsProxier({
      family: 'IPv4',
      nodeName: NODE,
      kernel,
      backend: {
        nodePortIPs: [NODE_IP],
        gracefulTerminationTimeoutMs: DRAIN_TIMEOUT_MS,
        gracefulCheckIntervalMs: 60_000,
      },
      clock: skewedClock,
      minSyncPeriodMs: 50,
      syncPeriodMs: 5000,
    });
    cluster = await startProxyCluster(NODE, [proxier]);
    mark('proxier');
    const ipvsadm = async () => (await node.exec('ipvsadm', ['-Ln'])).stdout;
    // Waits in-process until a sync has applied the virtual server (and `check` of it holds):
    // polling with curl would spawn processes that compete with the sync for the VM's one CPU.
    const synced = async (key: string, check: (rs: string[]) => boolean = () => true) => {
      const end = Date.now() + 30_000 * guestSpeedFactor();
      for (;;) {
        await proxier!.whenIdle();
        const vs = proxier!.lastPlan?.virtualServers.get(key);
        if (vs && check([...vs.realServers.keys()]) && proxier!.history.at(-1)?.ok) return;
        if (Date.now() > end) throw new Error(`${key} not synced`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };

    // ClusterIP spreads over both backends (rr).
    cluster.putService(service('web', { clusterIP: '10.96.0.100' }));
    cluster.putSlice(
      slice(
        'web',
        backends.map((b) => ({ ip: b.ip, node: 'node-b' })),
      ),
    );
    await synced('TCP/10.96.0.100:80', (rs) => rs.length === 2);
    await eventually(
      () => get('http://10.96.0.100:80/'),
      (b) => b.startsWith('backend-'),
      20_000,
    );
    const spread: string[] = [];
    for (let i = 0; i < 6; i++) spread.push(await get('http://10.96.0.100:80/'));
    result.clusterIP = spread;
    result.kubeIpvs0 = (await node.exec('ip', ['-o', 'addr', 'show', 'dev', 'kube-ipvs0'])).stdout;
    result.ipsets = (await node.exec('ipset', ['list', '-n'])).stdout.split('\n').filter(Boolean).sort();
    result.clusterIPSet = (await node.exec('ipset', ['list', 'KUBE-CLUSTER-IP'])).stdout;
    result.natServices = (await node.exec('iptables', ['-t', 'nat', '-S', 'KUBE-SERVICES'])).stdout;
    result.sysctls = (
      await node.exec('sysctl', ['-n', 'net.ipv4.vs.conntrack', 'net.ipv4.vs.expire_nodest_conn'])
    ).stdout
      .trim()
      .split('\n');
    // A host port reached through a VIP is rejected; through the node IP it answers.
    result.hostPortViaVip = await get('http://10.96.0.100:9999/');
    result.hostPortViaNodeIP = await get(`http://${NODE_IP}:9999/`);
    mark('clusterIP');

    // NodePort on the node address.
    cluster.putService(
      service('np', {
        type: 'NodePort',
        clusterIP: '10.96.0.101',
        ports: [{ name: 'http', port: 80, nodePort: 30080 }],
      }),
    );
    cluster.putSlice(slice('np', [{ ip: backends[1]!.ip, node: 'node-b' }]));
    await synced(`TCP/${NODE_IP}:30080`, (rs) => rs.length === 1);
    result.nodePort = await eventually(
      () => get(`http://${NODE_IP}:30080/`),
      (b) => b.startsWith('backend-'),
      20_000,
    );
    mark('nodePort');

    // sessionAffinity ClientIP sticks.
    cluster.putService(service('sticky', { clusterIP: '10.96.0.102', sessionAffinity: 'ClientIP' }));
    cluster.putSlice(
      slice(
        'sticky',
        backends.map((b) => ({ ip: b.ip, node: 'node-b' })),
      ),
    );
    await synced('TCP/10.96.0.102:80', (rs) => rs.length === 2);
    await eventually(
      () => get('http://10.96.0.102:80/'),
      (b) => b.startsWith('backend-'),
      20_000,
    );
    const sticky: string[] = [];
    for (let i = 0; i < 6; i++) sticky.push(await get('http://10.96.0.102:80/'));
    result.sticky = sticky;
    mark('sticky');

    // No endpoints: refused; then one endpoint: works.
    cluster.putService(service('empty', { clusterIP: '10.96.0.104' }));
    await synced('TCP/10.96.0.104:80');
    result.noEndpoints = await eventually(
      () => get('http://10.96.0.104:80/'),
      (b) => b === 'refused',
      20_000,
    );
    cluster.putSlice(slice('empty', [{ ip: backends[0]!.ip, node: 'node-b' }]));
    await synced('TCP/10.96.0.104:80', (rs) => rs.length === 1);
    result.afterEndpoint = await eventually(
      () => get('http://10.96.0.104:80/'),
      (b) => b === 'backend-0',
      20_000,
    );
    mark('noEndpoints');

    // Graceful removal: hold a connection to backend-0, move the Service to backend-1.
    cluster.putService(service('drain', { clusterIP: '10.96.0.105' }));
    cluster.putSlice(slice('drain', [{ ip: backends[0]!.ip, node: 'node-b' }]));
    await synced('TCP/10.96.0.105:80', (rs) => rs.length === 1);
    await eventually(
      () => get('http://10.96.0.105:80/'),
      (b) => b === 'backend-0',
      20_000,
    );
    const conn = spawn('ip', ['netns', 'exec', client.name, 'busybox', 'nc', '10.96.0.105', '80'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    held.push(conn);
    await eventually(
      async () =>
        (await readIpvsTable(ipvsHandle!, '10.96.0.105'))[0]?.destinations[0]?.activeConnections ?? 0,
      (n) => n > 0,
      10_000,
    );
    cluster.putSlice(slice('drain', [{ ip: backends[1]!.ip, node: 'node-b' }]));
    await synced('TCP/10.96.0.105:80', (rs) => rs[0] === `${backends[1]!.ip}:8080`);
    result.afterRemoval = await eventually(
      () => get('http://10.96.0.105:80/'),
      (b) => b === 'backend-1',
      20_000,
    );
    const afterMove: string[] = [];
    for (let i = 0; i < 3; i++) afterMove.push(await get('http://10.96.0.105:80/'));
    result.afterMove = afterMove;
    result.draining = (await readIpvsTable(ipvsHandle, '10.96.0.105'))[0]?.destinations.map((d) => ({
      address: d.address,
      weight: d.weight,
      active: d.activeConnections,
    }));
    // Still busy before the timeout: kept. After it: deleted.
    result.deletedBeforeTimeout = await proxier.processGracefulTermination();
    // Still busy, but past the drain timeout: deleted.
    skew.ms += DRAIN_TIMEOUT_MS;
    result.deletedAfterTimeout = await proxier.processGracefulTermination();
    result.afterDrain = (await readIpvsTable(ipvsHandle, '10.96.0.105'))[0]?.destinations.map(
      (d) => d.address,
    );
    conn.kill();
    mark('drain');

    // Deleting a Service removes its virtual server and its kube-ipvs0 address.
    cluster.api.registry.delete(cluster.api.resource('v1', 'services'), 'default', 'empty');
    result.afterDelete = await eventually(
      async () => (await node.exec('ip', ['-o', 'addr', 'show', 'dev', 'kube-ipvs0'])).stdout,
      (s) => !s.includes('10.96.0.104'),
      20_000,
    );
    result.deletedGone = await get('http://10.96.0.104:80/');
    result.ipvsadm = await ipvsadm();
    result.explain = formatIpvsTable(await readIpvsTable(ipvsHandle));
    result.history = proxier.history.map((h) => ({ kind: h.kind, ok: h.ok }));
    mark('delete');

    await cluster.watch.stop();
    await proxier.stop();
    proxier = undefined;
    // --cleanup: as upstream's ipvs.Flush(), every virtual server goes, one in excludeCIDRs too.
    await ipvsHandle.addService({ protocol: 'tcp', address: '10.200.0.1', port: 80, scheduler: 'rr' });
    result.cleanup = await cleanupIpvs({ ...kernel, iptables: [kernel.iptables] });
    result.afterCleanup = {
      ipvsadm: await ipvsadm(),
      link: (await node.exec('ip', ['link', 'show', 'kube-ipvs0'], { allowFailure: true })).exitCode,
      ipsets: (await node.exec('ipset', ['list', '-n'])).stdout.trim(),
      natChains: (await node.exec('iptables', ['-t', 'nat', '-S'])).stdout,
      filterChains: (await node.exec('iptables', ['-t', 'filter', '-S'])).stdout,
    };
    mark('cleanup');
  } finally {
    for (const c of held) c.kill();
    await cluster?.watch.stop().catch(() => {});
    await proxier?.stop().catch(() => {});
    ipvsHandle?.close();
    await cluster?.api.close().catch(() => {});
    await star?.delete();
    // Kills what was started in it (httpd); the namespace lives on until this process exits.
    await node.delete();
    mark('teardown');
  }
}

main().then(
  () => {
    process.stdout.write(`IPVS-SCENARIO ${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (err) => {
    process.stdout.write(
      `IPVS-SCENARIO ${JSON.stringify({ ...result, error: String(err?.stack ?? err) })}\n`,
    );
    process.exit(1);
  },
);
