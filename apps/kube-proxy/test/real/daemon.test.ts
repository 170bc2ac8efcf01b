import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ApiServer,
  bridgeIntoNetns,
  createNetns,
  kubeconfigYaml,
  type Netns,
  type NetnsTcpBridge,
  startApiServer,
} from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, until } from '../daemon-process';

// The real binary (src/cli.ts, bundled) running as a daemon inside a network namespace,
// talking to the in-process API server through a unix-socket bridge (the namespace cannot
// reach the host's loopback), programming iptables there and serving healthz and metrics.

let api: ApiServer;
let ns: Netns;
let dir: string;
let bridge: NetnsTcpBridge | undefined;
let main: Daemon;
const NODE_IP = '10.250.0.7';

interface Daemon {
  child: ChildProcess;
  /** Everything it logged so far. */
  log(): string;
  exited: Promise<number | null>;
}

const daemons: ChildProcess[] = [];

/** The binary from source inside the namespace, as a daemon, with the test's kubeconfig and node name. */
function startDaemon(args: string[]): Daemon {
  let log = '';
  const child = ns.spawn(
    process.execPath,
    [cli, '--kubeconfig', join(dir, 'kubeconfig'), '--hostname-override', 'node-a', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  daemons.push(child);
  child.stderr?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, log: () => log, exited };
}

/** `nodeagent-kube-proxy --cleanup` in the namespace; it must succeed. */
/** iptables-save lines naming a KUBE- chain other than KUBE-FIREWALL, which a cleanup leaves, as upstream. */
function kubeLinesBesidesFirewall(save: string): string[] {
  return save.split('\n').filter((l) => l.includes('KUBE-') && !l.includes('KUBE-FIREWALL'));
}

async function runCleanup(): Promise<void> {
  const r = await ns.exec(process.execPath, [cli, '--cleanup'], { allowFailure: true });
  expect(r.exitCode, r.stderr).toBe(0);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `na-kp-daemon-${process.pid}-`));
  api = await startApiServer();
  ns = await createNetns({ purpose: 'kpdaemon' });
  bridge = await bridgeIntoNetns(ns, api.port);
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml(`http://127.0.0.1:${bridge.port}`));
  // kube-proxy reads its Node's addresses at start (and would wait ~31 s for a missing one).
  api.registry.create(api.resource('v1', 'nodes'), undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-a' },
    status: {
      addresses: [
        { type: 'Hostname', address: 'node-a' },
        { type: 'InternalIP', address: NODE_IP },
      ],
    },
  });
  main = startDaemon([
    '--healthz-bind-address',
    '127.0.0.1:10256',
    '--metrics-bind-address',
    '127.0.0.1:10249',
    '--iptables-min-sync-period',
    '100ms',
    '--cluster-cidr',
    '10.244.0.0/16',
  ]);
}, 60_000);

afterAll(async () => {
  for (const d of daemons) if (d.exitCode === null) d.kill('SIGKILL');
  await ns?.delete();
  await bridge?.close();
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('nodeagent-kube-proxy daemon (in a namespace)', { timeout: 180_000 }, () => {
  it('programs Services from the API server and serves healthz and metrics', async () => {
    api.registry.create(api.resource('v1', 'services'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { clusterIP: '10.96.0.77', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    });
    api.registry.create(api.resource('discovery.k8s.io/v1', 'endpointslices'), 'default', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.244.1.9'], conditions: { ready: true } }],
    });
    const save = await until(
      async () => (await ns.exec('iptables-save', ['-t', 'nat'])).stdout,
      (s) => s.includes('--to-destination 10.244.1.9:8080'),
    );
    expect(save, main.log()).toContain('"default/web:http cluster IP"');
    expect(main.log()).toContain('Successfully retrieved node IP(s)');
    expect(main.log()).toContain(NODE_IP);
    expect(save).toContain('! -s 10.244.0.0/16');

    const healthz = await ns.exec('curl', ['-sS', '-i', 'http://127.0.0.1:10256/healthz']);
    expect(healthz.stdout).toMatch(/^HTTP\/1.1 200/);
    expect(healthz.stdout).toContain('"nodeEligible": true');
    const metrics = await ns.exec('curl', ['-sS', 'http://127.0.0.1:10249/metrics']);
    expect(metrics.stdout).toMatch(
      /kubeproxy_sync_proxy_rules_duration_seconds_count\{ip_family="IPv4"\} [1-9]/,
    );
    expect((await ns.exec('curl', ['-sS', 'http://127.0.0.1:10249/proxyMode'])).stdout).toBe('iptables');
  });

  it('exits 0 on SIGTERM, and --cleanup then removes its rules and userspace portal rules', async () => {
    main.child.kill('SIGTERM');
    expect(await main.exited).toBe(0);
    // What a userspace-mode (REDIRECT) run leaves behind: --cleanup must remove it too.
    await ns.exec('iptables', ['-t', 'nat', '-N', 'KUBE-PORTALS-HOST']);
    await ns.exec('iptables', ['-t', 'nat', '-I', 'OUTPUT', '-j', 'KUBE-PORTALS-HOST']);
    expect((await ns.exec('iptables-save', ['-t', 'nat'])).stdout).toContain(
      '-A OUTPUT -j KUBE-PORTALS-HOST',
    );
    // Someone else's rules, in both families: a cleanup must leave every one of them.
    const foreign = [
      ['-t', 'nat', '-N', 'FOREIGN-NAT'],
      ['-t', 'nat', '-A', 'FOREIGN-NAT', '-p', 'tcp', '--dport', '81', '-j', 'RETURN'],
      ['-t', 'nat', '-I', 'OUTPUT', '-j', 'FOREIGN-NAT'],
      [
        '-I',
        'INPUT',
        '-s',
        '192.0.2.1/32',
        '-m',
        'comment',
        '--comment',
        'kubernetes service portals',
        '-j',
        'DROP',
      ],
    ];
    for (const args of foreign) await ns.exec('iptables', args);
    await ns.exec('ip6tables', ['-I', 'FORWARD', '-s', '2001:db8::1/128', '-j', 'DROP']);
    const before = (await ns.exec('iptables-save', [])).stdout;
    expect(kubeLinesBesidesFirewall(before).length).toBeGreaterThan(20);
    const r = await ns.exec(process.execPath, [cli, '--cleanup'], { allowFailure: true });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/cleanup: removed ([1-9]\d*) iptables chains/);
    const save = (await ns.exec('iptables-save', [])).stdout;
    // Only KUBE-FIREWALL and its jumps stay, as upstream leaves them (route_localnet stays 1).
    expect(kubeLinesBesidesFirewall(save)).toEqual([]);
    expect(save).toContain('-A INPUT -j KUBE-FIREWALL');
    for (const line of [
      '-A OUTPUT -j FOREIGN-NAT',
      '-A FOREIGN-NAT -p tcp -m tcp --dport 81 -j RETURN',
      '-A INPUT -s 192.0.2.1/32 -m comment --comment "kubernetes service portals" -j DROP',
    ])
      expect(save).toContain(line);
    expect((await ns.exec('ip6tables-save', [])).stdout).toContain('-A FORWARD -s 2001:db8::1/128 -j DROP');
  });

  it('--proxy-mode userspace programs REDIRECT portals for the same Service, and --cleanup removes them', async () => {
    const userspace = startDaemon([
      '--proxy-mode',
      'userspace',
      '--healthz-bind-address',
      '',
      '--metrics-bind-address',
      '127.0.0.1:10249',
      '--iptables-min-sync-period',
      '100ms',
    ]);
    try {
      const save = await until(
        async () => (await ns.exec('iptables-save', ['-t', 'nat'])).stdout,
        // The proxier restores its chains first, then inserts the jumps from the built-ins.
        (s) =>
          /-A KUBE-PORTALS-HOST .*-d 10\.96\.0\.77\/32/.test(s) && /-A OUTPUT .*-j KUBE-PORTALS-HOST/.test(s),
      );
      expect(save, userspace.log()).toMatch(/-A KUBE-PORTALS-HOST .*-d 10\.96\.0\.77\/32/);
      expect(save).toMatch(/-A OUTPUT .*-j KUBE-PORTALS-HOST/);
      expect(save).not.toContain('KUBE-SERVICES');
      expect((await ns.exec('curl', ['-sS', 'http://127.0.0.1:10249/proxyMode'])).stdout).toBe('userspace');
    } finally {
      if (userspace.child.exitCode === null) userspace.child.kill('SIGTERM');
    }
    expect(await userspace.exited).toBe(0);
    await runCleanup();
    expect(kubeLinesBesidesFirewall((await ns.exec('iptables-save', [])).stdout)).toEqual([]);
  });

  it("--proxy-mode nftables serves NodePorts on the Node's primary IP by default, as upstream", async () => {
    api.registry.create(api.resource('v1', 'services'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'np', namespace: 'default' },
      spec: {
        type: 'NodePort',
        clusterIP: '10.96.0.78',
        ports: [{ name: 'http', port: 80, nodePort: 30081, protocol: 'TCP' }],
      },
    });
    const nft = startDaemon([
      '--proxy-mode',
      'nftables',
      '--healthz-bind-address',
      '',
      '--metrics-bind-address',
      '',
    ]);
    try {
      const set = await until(
        async () =>
          (await ns.exec('nft', ['list', 'set', 'ip', 'kube-proxy', 'nodeport-ips'], { allowFailure: true }))
            .stdout,
        (s) => s.includes(NODE_IP),
      );
      expect(set, nft.log()).toContain(`elements = { ${NODE_IP} }`);
    } finally {
      if (nft.child.exitCode === null) nft.child.kill('SIGTERM');
    }
    expect(await nft.exited).toBe(0);
    await runCleanup();
    expect((await ns.exec('nft', ['list', 'tables'])).stdout).not.toContain('kube-proxy');
  });

  it('sets conntrack timeouts and route_localnet in its own namespace only; --init-only does just that', async () => {
    const inNs = async (key: string) => (await ns.exec('sysctl', ['-n', key])).stdout.trim();
    const onHost = (key: string) => readFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, 'utf8').trim();
    const established = 'net.netfilter.nf_conntrack_tcp_timeout_established';
    const liberal = 'net.netfilter.nf_conntrack_tcp_be_liberal';
    const hostBefore = [onHost(established), onHost(liberal), onHost('net.netfilter.nf_conntrack_max')];
    // The iptables-mode daemon started in beforeAll applied the defaults at start-up.
    expect(await inNs(established)).toBe('86400');
    expect(await inNs('net.ipv4.conf.all.route_localnet')).toBe('1');
    const r = await ns.exec(
      process.execPath,
      [
        cli,
        '--init-only',
        '--proxy-mode',
        'nftables',
        '--conntrack-tcp-timeout-established',
        '2h',
        '--conntrack-tcp-be-liberal=true',
      ],
      { allowFailure: true },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await inNs(established)).toBe('7200');
    expect(await inNs(liberal)).toBe('1');
    // nf_conntrack_max is global and read-only outside the initial namespace: a warning, not a failure.
    expect(r.stderr).toContain('nf_conntrack_max');
    expect([onHost(established), onHost(liberal), onHost('net.netfilter.nf_conntrack_max')]).toEqual(
      hostBefore,
    );
  });

  it('sets its sysctls in nftables mode with an empty PATH: /proc/sys directly, no sysctl binary', async () => {
    const file = '/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established';
    const inNs = async () => (await ns.exec('cat', [file])).stdout.trim();
    const hostBefore = readFileSync(file, 'utf8').trim();
    expect(await inNs()).not.toBe('10800');
    // env(1) by path: nsenter is found through the test's PATH, the binary then runs with none.
    const args = ['--init-only', '--proxy-mode', 'nftables', '--conntrack-tcp-timeout-established', '3h'];
    const r = await ns.exec('/usr/bin/env', ['-i', 'PATH=', process.execPath, cli, ...args], {
      allowFailure: true,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('executable file not found');
    expect(await inNs()).toBe('10800');
    expect(readFileSync(file, 'utf8').trim()).toBe(hostBefore);
  });

  it('reconciles UDP conntrack over netlink in nftables mode with an empty PATH: no conntrack binary', async () => {
    api.registry.create(api.resource('v1', 'services'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'dnsu', namespace: 'default' },
      spec: { clusterIP: '10.96.0.88', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
    });
    api.registry.create(api.resource('discovery.k8s.io/v1', 'endpointslices'), 'default', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'dnsu-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'dnsu' } },
      addressType: 'IPv4',
      ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }],
      endpoints: [{ addresses: ['10.244.1.20'], conditions: { ready: true } }],
    });
    // Two flows to the Service: one NATed to its endpoint, one to a backend that is gone.
    for (const [sport, backend] of [
      ['40001', '10.244.1.20'],
      ['40002', '10.244.9.9'],
    ] as const) {
      await ns.exec('conntrack', [
        ...['-I', '-p', 'udp', '-s', '10.0.0.2', '-d', '10.96.0.88', '--sport', sport, '--dport', '53'],
        ...[
          '-r',
          backend,
          '-q',
          '10.0.0.2',
          '--reply-port-src',
          '5353',
          '--reply-port-dst',
          sport,
          '-t',
          '300',
        ],
      ]);
    }
    let log = '';
    const child = ns.spawn(
      '/usr/bin/env',
      [
        '-i',
        'PATH=',
        process.execPath,
        cli,
        '--kubeconfig',
        join(dir, 'kubeconfig'),
        '--hostname-override',
        'node-a',
      ].concat([
        '--proxy-mode',
        'nftables',
        '--healthz-bind-address',
        '',
        '--metrics-bind-address',
        '127.0.0.1:10249',
      ]),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    daemons.push(child);
    child.stderr?.on('data', (b: Buffer) => {
      log += b.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const metrics = await until(
        async () =>
          (await ns.exec('curl', ['-sS', 'http://127.0.0.1:10249/metrics'], { allowFailure: true })).stdout,
        (m) => /^kubeproxy_conntrack_reconciler_deleted_entries_total\{ip_family="IPv4"\} 1$/m.test(m),
      );
      expect(metrics, log).toMatch(
        /^kubeproxy_conntrack_reconciler_deleted_entries_total\{ip_family="IPv4"\} 1$/m,
      );
      const listed = (await ns.exec('conntrack', ['-L', '-p', 'udp'])).stdout;
      expect(listed).not.toContain('src=10.244.9.9');
      expect(listed).toContain('src=10.244.1.20');
      expect(log).not.toContain('conntrack reconcile failed');
      expect(log).not.toContain('executable file not found');
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
    expect(await exited, log).toBe(0);
    await runCleanup();
  });
});
