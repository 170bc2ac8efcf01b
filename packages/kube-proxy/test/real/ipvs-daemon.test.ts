/**
 * The real nodeagent-kube-proxy daemon in ipvs mode, dual-stack, on a real IPVS kernel: boots
 * the micro-VM once and runs ipvs-daemon-scenario.ts inside, in the node's namespace, which starts
 * the binary (bundled from apps/kube-proxy/src/cli.ts: tsx would transpile hundreds of modules
 * under TCG) against the in-process API server, drives traffic from a client namespace, then
 * stops it and runs `--cleanup`. Asserts on the JSON it prints. The host's own network stack is
 * never touched.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../../../../tools/bundle/bundle-entry';
import { runInVm, VM_TEST_TIMEOUT_MS } from '../../../../tools/vm/vm';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const cliEntry = `${repoRoot}apps/kube-proxy/src/cli.ts`;
// Most autoload; listing them makes a missing one obvious. xt_ipvs: KUBE-IPVS-OUT-FILTER's match.
const MODULES = [
  'ip_vs',
  'ip_vs_rr',
  'dummy',
  'ip_set',
  'ip_set_hash_ip',
  'ip_set_hash_ipport',
  'ip_set_hash_ipportip',
  'ip_set_hash_ipportnet',
  'ip_set_bitmap_port',
  'xt_set',
  'xt_ipvs',
  'xt_comment',
  'xt_addrtype',
  'xt_mark',
  'xt_conntrack',
  'xt_MASQUERADE',
  'xt_physdev',
  'nft_compat',
];

// biome-ignore lint/suspicious/noExplicitAny: JSON from the VM, narrowed per assertion
let r: any;
const disposers: (() => void)[] = [];

beforeAll(async () => {
  const { version } = JSON.parse(readFileSync(`${repoRoot}apps/kube-proxy/package.json`, 'utf8'));
  // With V8 code caches (tools/bundle/code-cache.ts): the daemon starts twice (run, --cleanup) in the
  // guest, and compiling a bundle is most of a Node start under TCG.
  const daemon = bundleEntry(
    cliEntry,
    { __NODEAGENT_VERSION__: JSON.stringify(version) },
    { codeCache: true },
  );
  disposers.push(daemon.dispose);
  const scenario = bundleEntry(
    fileURLToPath(new URL('./ipvs-daemon-scenario.ts', import.meta.url)),
    {},
    {
      codeCache: true,
    },
  );
  disposers.push(scenario.dispose);
  // The scenario runs inside the node's namespace, so the daemon reaches the scenario's API server
  // on 127.0.0.1 with no forwarder between them.
  const nodeNetns = `na-ipvsd-node-${process.pid}`;
  const enterNode = `nsenter --net=/run/netns/${nodeNetns}`;
  const result = await runInVm({
    command: 'sh',
    args: [
      '-c',
      `modprobe -a ${MODULES.join(' ')} && ip netns add ${nodeNetns} && ${enterNode} ip link set lo up && exec ${enterNode} node ${scenario.file} ${daemon.file} ${nodeNetns}`,
    ],
    cwd: repoRoot,
    timeoutMs: 230_000,
  });
  const line = result.stdout.split('\n').find((l) => l.startsWith('IPVS-DAEMON '));
  if (!line) throw new Error(`no result line (exit ${result.exitCode}):\n${result.stderr}\n${result.stdout}`);
  r = JSON.parse(line.slice('IPVS-DAEMON '.length));
  if (r.error)
    throw new Error(
      `scenario failed: ${r.error}\ntimings: ${JSON.stringify(r.timings)}\n--- daemon log ---\n${r.daemonLog}\n${result.stderr}`,
    );
  // Where the time went (ms since the scenario started, per phase), for the tier table.
  console.log(
    `ipvs daemon: ${Math.round(result.durationMs / 1000)} s, boot ${result.bootMs} ms, speed factor ${result.speedFactor}, qemu ${Math.round(result.qemuCpuMs / 100) / 10} CPU-s; guest uptime at start ${r.guestUptimeMs} ms, node start ${r.nodeStartMs} ms, scenario ${JSON.stringify(r.timings)}`,
  );
}, VM_TEST_TIMEOUT_MS);

afterAll(() => {
  for (const d of disposers) d();
});

describe('nodeagent-kube-proxy --proxy-mode ipvs (daemon, in the micro-VM)', () => {
  it('programs a ClusterIP from the API server and spreads connections over both backends', () => {
    expect(r.webRealServers.map((s: { address: string }) => s.address).sort()).toEqual([
      '10.250.11.2:8080',
      '10.250.12.2:8080',
    ]);
    expect(new Set(r.clusterIP)).toEqual(new Set(['backend-0', 'backend-1']));
    expect(r.kubeIpvs0).toContain('inet 10.96.0.100/32');
    expect(r.ipsets).toContain('KUBE-CLUSTER-IP');
  });

  it('serves a NodePort on the node address', () => {
    expect(r.nodePort).toBe('backend-1');
  });

  it('rejects a VIP on a port that is not a Service port (KUBE-IPVS-FILTER), not the node IP', () => {
    expect(r.hostPortViaVip).toBe('refused');
    expect(r.hostPortViaNodeIP).toBe('node-host-port');
  });

  it('keeps the node out of an LB IP whose source ranges exclude it (KUBE-IPVS-OUT-FILTER), not the client', () => {
    expect(r.lbFromClient).toBe('backend-0');
    expect(r.lbFromNode).toBe('timeout');
    // The node reaches an LB IP without source ranges: the drop is the filter's doing.
    expect(r.lbOpenFromNode).toBe('backend-0');
    expect(r.outFilter).toContain(
      '-A KUBE-IPVS-OUT-FILTER -s 10.97.0.10/32 -m ipvs --vproto 6 --vaddr 10.97.0.10 --vport 80 -j DROP',
    );
    expect(r.outFilter).not.toContain('10.97.0.11');
    expect(r.outputJumps).toContain('-j KUBE-IPVS-OUT-FILTER');
  });

  it('serves an IPv6 ClusterIP through the same daemon (KUBE-6-* sets)', () => {
    expect(r.web6RealServers.map((s: { address: string }) => s.address).sort()).toEqual([
      '[fd00:250:11::2]:8080',
      '[fd00:250:12::2]:8080',
    ]);
    expect(new Set(r.clusterIP6)).toEqual(new Set(['backend-0', 'backend-1']));
    expect(r.kubeIpvs0v6).toContain('inet6 fd00:96::100/128');
    expect(r.clusterIPSet6).toContain('fd00:96::100,tcp:80');
  });

  it('stops sending new connections to a removed endpoint', () => {
    const removed = r.afterRemovalRealServers.find((s: { address: string }) =>
      s.address.startsWith('10.250.11.2:'),
    );
    // Gone, or draining at weight 0.
    expect(removed === undefined || removed.weight === 0).toBe(true);
    expect(r.afterRemoval).toEqual(Array(6).fill('backend-1'));
  });

  it('answers /healthz and /metrics with upstream names', () => {
    expect(r.healthz).toMatch(/^HTTP\/1.1 200/);
    expect(r.healthz).toContain('"nodeEligible": true');
    expect(r.metrics).toMatch(/^kubeproxy_sync_proxy_rules_duration_seconds_count(\{[^}]*\})? [1-9]/m);
    expect(r.metrics).toMatch(/^kubeproxy_sync_proxy_rules_last_timestamp_seconds(\{[^}]*\})? [1-9]/m);
    expect(r.proxyMode).toBe('ipvs');
  });

  it('exits 0 on SIGTERM, and --cleanup removes kube-ipvs0, the IPVS services, our ipsets and chains', () => {
    expect(r.daemonExit).toBe(0);
    expect(r.cleanupExit, r.cleanupStderr).toBe(0);
    expect(r.cleanupStderr).toMatch(/ipvs mode: removed [1-9]\d* IPVS services/);
    expect(r.afterCleanup.link).not.toBe(0);
    expect(r.afterCleanup.ipvsadm).not.toMatch(/^(TCP|UDP|SCTP) /m);
    expect(r.afterCleanup.ipsets).toBe('');
    expect(r.afterCleanup.iptables).not.toContain('KUBE-');
    expect(r.afterCleanup.ip6tables).not.toContain('KUBE-');
  });
});
