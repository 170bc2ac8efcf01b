/**
 * Runs INSIDE the micro-VM, itself inside the "node" namespace (argv[3], made by
 * ipvs-daemon.test.ts's shell): the real nodeagent-kube-proxy binary (apps/kube-proxy/src/cli.ts,
 * bundled; its path is argv[2]) as a daemon with `--proxy-mode ipvs`, dual-stack, in the same
 * namespace, against the in-process API server on its 127.0.0.1 (a forwarder into the namespace
 * would be one more Node start, seconds under TCG). A client namespace and two backend
 * namespaces (busybox httpd) carry the traffic, busybox wget sends it (guest-http.ts).
 * Afterwards the daemon is stopped with SIGTERM and the binary's `--cleanup` runs. Prints one
 * line `IPVS-DAEMON <json>`; ipvs-daemon.test.ts does the asserting.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ApiServer, kubeconfigYaml, openNetns, startApiServer } from '@nodeagent/testing';
import { guestSpeedFactor } from '../../../../tools/vm/speed';
import { service, slice } from '../fixtures';
import { httpGet, localGet } from './guest-http';
import { readProcIpVs } from './proc-ip-vs';
import { createStarTopology, type Star } from './star-topology';

const NODE = 'node-a';
// The node's addresses on the client's link (star-topology.ts).
const NODE_IP = '10.250.1.1';
const NODE_IP6 = 'fd00:250:1::1';
const daemonBundle = process.argv[2];
const nodeNetns = process.argv[3];
// nodeStartMs: how long Node took to load this bundle before its first line ran (most of it under
// TCG); guestUptimeMs: the guest's clock then, which also holds the boot and the modprobe before.
const result: Record<string, unknown> = {
  guestUptimeMs: Math.round(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1000),
  timings: {},
  nodeStartMs: Math.round(process.uptime() * 1000),
};
const t0 = Date.now();
const mark = (what: string) => {
  (result.timings as Record<string, number>)[what] = Date.now() - t0;
};

/** Polls `fn` every 300 ms until `ok` holds or `timeoutMs` passes; returns the last value. */
async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs * guestSpeedFactor();
  let v = await fn();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 300));
    v = await fn();
  }
  return v;
}

async function main(): Promise<void> {
  if (!daemonBundle || !nodeNetns)
    throw new Error('usage: ipvs-daemon-scenario <daemon bundle> <node netns>');
  // This process's own namespace: the daemon, its API server and the node's host service.
  const node = openNetns(nodeNetns);
  const dir = mkdtempSync(join('/tmp', `na-ipvsd-${process.pid}-`));
  let api: ApiServer | undefined;
  let daemon: ChildProcess | undefined;
  let daemonLog = '';
  let star: Star | undefined;
  try {
    api = await startApiServer();
    mark('api');

    star = await createStarTopology({ purpose: 'ipvsd', node, ipv6: true });
    const { client, backends } = star;
    // This process is in the node's namespace: its own /proc/sys/net is the node's.
    writeFileSync('/proc/sys/net/ipv6/conf/all/forwarding', '1');
    for (const [i, b] of backends.entries()) {
      const www = join(dir, `backend-${i}`);
      mkdirSync(www);
      writeFileSync(join(www, 'index.html'), `backend-${i}`);
      // [::]: one dual-stack listener for both families.
      b.netns.spawn('busybox', ['httpd', '-f', '-p', '[::]:8080', '-h', www], { stdio: 'ignore' });
    }
    mark('links');
    // A host service on the node: reachable on the node IP, never through a VIP (KUBE-IPVS-FILTER).
    const nodeWww = join(dir, 'node');
    mkdirSync(nodeWww);
    writeFileSync(join(nodeWww, 'index.html'), 'node-host-port');
    node.spawn('busybox', ['httpd', '-f', '-p', '9999', '-h', nodeWww], { stdio: 'ignore' });

    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(`http://127.0.0.1:${api.port}`));
    mark('topology');

    const ipvsadm = async () => (await node.exec('ipvsadm', ['-Ln'])).stdout;
    // The daemon's view of the IPVS table, read in-process: polling with ipvsadm started a process
    // every 300 ms that competed with the daemon's own start for the VM's one CPU.
    const realServers = async (vs: string) => (await readProcIpVs(daemon!.pid!)).get(vs) ?? [];
    const create = (plural: string, obj: unknown) =>
      api!.registry.create(
        plural === 'services'
          ? api!.resource('v1', 'services')
          : api!.resource('discovery.k8s.io/v1', plural),
        'default',
        obj,
      );

    // The daemon reads its host IPs from its Node at start (and would wait ~31 s without one).
    api.registry.create(api.resource('v1', 'nodes'), undefined, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: NODE },
      status: {
        addresses: [
          { type: 'InternalIP', address: NODE_IP },
          { type: 'InternalIP', address: NODE_IP6 },
        ],
      },
    });
    // Objects first: the daemon's first sync then programs them all at once.
    create('services', service('web', { clusterIP: '10.96.0.100' }));
    create(
      'endpointslices',
      slice(
        'web',
        backends.map((b) => ({ ip: b.ip, node: 'node-b' })),
      ),
    );
    create(
      'services',
      service('np', {
        type: 'NodePort',
        clusterIP: '10.96.0.101',
        ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP', targetPort: 8080 as never }],
      }),
    );
    create('endpointslices', slice('np', [{ ip: backends[1]!.ip, node: 'node-b' }]));
    const lb = (name: string, clusterIP: string, ingress: string, nodePort: number, ranges?: string[]) =>
      service(
        name,
        {
          type: 'LoadBalancer',
          clusterIP,
          ports: [{ name: 'http', port: 80, nodePort, protocol: 'TCP', targetPort: 8080 as never }],
          ...(ranges ? { loadBalancerSourceRanges: ranges } : {}),
        },
        { loadBalancer: { ingress: [{ ip: ingress }] } },
      );
    // Source ranges that hold the client but not the node's IP: the node itself is kept out too.
    create('services', lb('lb-fw', '10.96.0.110', '10.97.0.10', 30110, ['10.250.1.2/32']));
    create('endpointslices', slice('lb-fw', [{ ip: backends[0]!.ip, node: 'node-b' }]));
    create('services', lb('lb-open', '10.96.0.111', '10.97.0.11', 30111));
    create('endpointslices', slice('lb-open', [{ ip: backends[0]!.ip, node: 'node-b' }]));
    create(
      'services',
      service('web6', { clusterIP: 'fd00:96::100', clusterIPs: ['fd00:96::100'], ipFamilies: ['IPv6'] }),
    );
    create(
      'endpointslices',
      slice(
        'web6',
        backends.map((b) => ({ ip: b.ip6, node: 'node-b' })),
        { addressType: 'IPv6' },
      ),
    );

    daemon = node.spawn(
      process.execPath,
      [
        daemonBundle,
        '--kubeconfig',
        kubeconfig,
        '--proxy-mode',
        'ipvs',
        '--hostname-override',
        NODE,
        '--healthz-bind-address',
        '127.0.0.1:10256',
        '--metrics-bind-address',
        '127.0.0.1:10249',
        '--ipvs-min-sync-period',
        '100ms',
        '--cluster-cidr',
        '10.244.0.0/16,fd00:244::/64',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const onLog = (b: Buffer) => {
      if (!daemonLog) mark('daemonFirstOutput');
      daemonLog = (daemonLog + b.toString()).slice(-6000);
    };
    daemon.stdout?.on('data', onLog);
    daemon.stderr?.on('data', onLog);
    const daemonExit = new Promise<number | null>((resolve) => daemon!.on('exit', (code) => resolve(code)));

    // ClusterIP over both backends.
    result.webRealServers = await until(
      () => realServers('TCP  10.96.0.100:80'),
      (rs) => rs.length === 2,
      90_000,
    );
    mark('firstSync');
    // The real servers are written before kube-ipvs0 gets the VIP (the sync's last step): wait
    // for the Service to answer before sampling the spread.
    await until(
      () => httpGet(client, 'http://10.96.0.100/'),
      (b) => b.startsWith('backend-'),
      30_000,
    );
    mark('clusterIPAnswers');
    const spread: string[] = [];
    for (let i = 0; i < 6; i++) spread.push(await httpGet(client, 'http://10.96.0.100/'));
    result.clusterIP = spread;
    result.kubeIpvs0 = (await node.exec('ip', ['-o', 'addr', 'show', 'dev', 'kube-ipvs0'])).stdout;
    result.ipsets = (await node.exec('ipset', ['list', '-n'])).stdout.split('\n').filter(Boolean).sort();

    // NodePort on the node address.
    result.nodePort = await until(
      () => httpGet(client, `http://${NODE_IP}:30080/`),
      (b) => b.startsWith('backend-'),
      20_000,
    );

    // A VIP on a port that is no Service port: rejected, although the node listens there.
    result.hostPortViaVip = await httpGet(client, 'http://10.96.0.100:9999/');
    result.hostPortViaNodeIP = await httpGet(client, `http://${NODE_IP}:9999/`);

    // LoadBalancer source ranges: the client (in range) gets through; the node itself is
    // dropped by KUBE-IPVS-OUT-FILTER; the same node reaches an LB IP without ranges.
    // Both answer once their sync is in; only then does the node's timeout mean a drop.
    result.lbFromClient = await until(
      () => httpGet(client, 'http://10.97.0.10/'),
      (b) => b === 'backend-0',
      30_000,
    );
    result.lbOpenFromNode = await until(
      () => httpGet(node, 'http://10.97.0.11/'),
      (b) => b === 'backend-0',
      30_000,
    );
    result.lbFromNode = await httpGet(node, 'http://10.97.0.10/');
    result.outFilter = (await node.exec('iptables', ['-S', 'KUBE-IPVS-OUT-FILTER'])).stdout;
    result.outputJumps = (await node.exec('iptables', ['-S', 'OUTPUT'])).stdout;
    mark('services');

    // IPv6 ClusterIP (the IPv6 proxier of the same daemon).
    result.web6RealServers = await until(
      () => realServers('TCP  [fd00:96::100]:80'),
      (rs) => rs.length === 2,
      30_000,
    );
    const spread6: string[] = [];
    for (let i = 0; i < 6; i++) spread6.push(await httpGet(client, 'http://[fd00:96::100]/'));
    result.clusterIP6 = spread6;
    result.kubeIpvs0v6 = (await node.exec('ip', ['-o', '-6', 'addr', 'show', 'dev', 'kube-ipvs0'])).stdout;
    result.clusterIPSet6 = (await node.exec('ipset', ['list', 'KUBE-6-CLUSTER-IP'])).stdout;
    mark('ipv6');

    // Endpoint removal: backend-0 leaves the Service; new connections only reach backend-1.
    const sliceType = api.resource('discovery.k8s.io/v1', 'endpointslices');
    const current = api.registry.find(sliceType, 'default', 'web-abc')!;
    api.registry.update(sliceType, 'default', 'web-abc', {
      ...slice('web', [{ ip: backends[1]!.ip, node: 'node-b' }]),
      metadata: { ...slice('web', []).metadata, resourceVersion: current.metadata.resourceVersion },
    });
    // Gone, or draining at weight 0 (kept while its old connections time out).
    result.afterRemovalRealServers = await until(
      () => realServers('TCP  10.96.0.100:80'),
      (rs) => !rs.some((r) => r.address.startsWith(`${backends[0]!.ip}:`) && r.weight > 0),
      30_000,
    );
    const afterRemoval: string[] = [];
    for (let i = 0; i < 6; i++) afterRemoval.push(await httpGet(client, 'http://10.96.0.100/'));
    result.afterRemoval = afterRemoval;
    mark('removal');

    // healthz and metrics, with upstream's names.
    // The daemon's servers listen in this process's namespace: asked in-process, no curl start.
    const healthz = await localGet('http://127.0.0.1:10256/healthz');
    result.healthz = `${healthz.statusLine}\n${healthz.body}`;
    result.metrics = (await localGet('http://127.0.0.1:10249/metrics')).body
      .split('\n')
      .filter((l) => l.startsWith('kubeproxy_'))
      .join('\n');
    result.proxyMode = (await localGet('http://127.0.0.1:10249/proxyMode')).body;
    mark('servers');

    // SIGTERM, then the binary's --cleanup.
    daemon.kill('SIGTERM');
    result.daemonExit = await daemonExit;
    mark('daemonExit');
    const cleanup = await node.exec(process.execPath, [daemonBundle, '--cleanup'], {
      allowFailure: true,
      timeoutMs: 120_000 * guestSpeedFactor(),
    });
    result.cleanupExit = cleanup.exitCode;
    result.cleanupStderr = cleanup.stderr.slice(-2000);
    mark('cleanupRun');
    result.afterCleanup = {
      link: (await node.exec('ip', ['link', 'show', 'kube-ipvs0'], { allowFailure: true })).exitCode,
      ipvsadm: await ipvsadm(),
      ipsets: (await node.exec('ipset', ['list', '-n'])).stdout.trim(),
      iptables: (await node.exec('iptables-save', [])).stdout,
      ip6tables: (await node.exec('ip6tables-save', [])).stdout,
    };
    mark('cleanup');
  } finally {
    result.daemonLog = daemonLog;
    if (daemon && daemon.exitCode === null) daemon.kill('SIGKILL');
    await api?.close().catch(() => {});
    await star?.delete();
    // Kills what was started in it (httpd); the namespace lives on until this process exits.
    await node.delete();
    rmSync(dir, { recursive: true, force: true });
    mark('teardown');
  }
}

main().then(
  () => {
    process.stdout.write(`IPVS-DAEMON ${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (err) => {
    process.stdout.write(`IPVS-DAEMON ${JSON.stringify({ ...result, error: String(err?.stack ?? err) })}\n`);
    process.exit(1);
  },
);
