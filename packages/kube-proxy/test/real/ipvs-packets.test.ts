/**
 * ipvs mode end to end on a real IPVS kernel: boots the micro-VM once, runs ipvs-scenario.ts
 * inside, in the node's namespace (namespaces, the ipvs proxier against the in-process API
 * server, busybox wget from a client namespace), then asserts on the JSON it prints. The host's
 * own network stack is never touched.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../../../../tools/bundle/bundle-entry';
import { runInVm, VM_TEST_TIMEOUT_MS } from '../../../../tools/vm/vm';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
// Modules the proxier needs; most autoload, listing them makes a missing one obvious.
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
let dispose: (() => void) | undefined;

beforeAll(async () => {
  // With a V8 code cache (tools/bundle/code-cache.ts): compiling it is most of a Node start under TCG.
  const bundle = bundleEntry(
    fileURLToPath(new URL('./ipvs-scenario.ts', import.meta.url)),
    {},
    { codeCache: true },
  );
  dispose = bundle.dispose;
  // The scenario runs inside the node's namespace: the proxier's IPVS handle and commands need no
  // relay process or namespace switch.
  const nodeNetns = `na-ipvs-node-${process.pid}`;
  const enterNode = `nsenter --net=/run/netns/${nodeNetns}`;
  const result = await runInVm({
    command: 'sh',
    args: [
      '-c',
      `modprobe -a ${MODULES.join(' ')} && ip netns add ${nodeNetns} && ${enterNode} ip link set lo up && exec ${enterNode} node ${bundle.file} ${nodeNetns}`,
    ],
    cwd: repoRoot,
    timeoutMs: 170_000,
  });
  const line = result.stdout.split('\n').find((l) => l.startsWith('IPVS-SCENARIO '));
  if (!line) throw new Error(`no result line (exit ${result.exitCode}):\n${result.stderr}\n${result.stdout}`);
  r = JSON.parse(line.slice('IPVS-SCENARIO '.length));
  if (r.error)
    throw new Error(`scenario failed: ${r.error}\ntimings: ${JSON.stringify(r.timings)}\n${result.stderr}`);
  // Where the time went (ms since the scenario started, per phase), for the tier table.
  console.log(
    `ipvs packets: ${Math.round(result.durationMs / 1000)} s, boot ${result.bootMs} ms, speed factor ${result.speedFactor}, qemu ${Math.round(result.qemuCpuMs / 100) / 10} CPU-s; guest uptime at start ${r.guestUptimeMs} ms, node start ${r.nodeStartMs} ms, scenario ${JSON.stringify(r.timings)}`,
  );
}, VM_TEST_TIMEOUT_MS);

afterAll(() => dispose?.());

describe('ipvs mode packets (in the micro-VM)', () => {
  it('spreads ClusterIP connections over both backends (rr)', () => {
    expect(new Set(r.clusterIP)).toEqual(new Set(['backend-0', 'backend-1']));
    expect(r.kubeIpvs0).toContain('inet 10.96.0.100/32');
  });

  it('programs the upstream ipsets, iptables rules and sysctls', () => {
    for (const s of [
      'KUBE-CLUSTER-IP',
      'KUBE-LOOP-BACK',
      'KUBE-NODE-PORT-TCP',
      'KUBE-NODE-PORT-SCTP-HASH',
      'KUBE-IPVS-IPS',
    ])
      expect(r.ipsets).toContain(s);
    expect(r.clusterIPSet).toContain('10.96.0.100,tcp:80');
    expect(r.natServices).toContain('-m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT');
    expect(r.natServices).toContain('-m addrtype --dst-type LOCAL -j KUBE-NODE-PORT');
    expect(r.sysctls).toEqual(['1', '1']);
  });

  it('rejects host ports reached through a VIP (KUBE-IPVS-FILTER) but not through the node IP', () => {
    expect(r.hostPortViaVip).toBe('refused');
    expect(r.hostPortViaNodeIP).toBe('node-host-port');
  });

  it('serves a NodePort on the node address', () => {
    expect(r.nodePort).toBe('backend-1');
  });

  it('sticks to one backend with sessionAffinity ClientIP', () => {
    expect(r.sticky).toHaveLength(6);
    expect(new Set(r.sticky).size).toBe(1);
    expect(r.ipvsadm).toMatch(/TCP {2}10\.96\.0\.102:80 rr persistent 10800/);
  });

  it('refuses connections to a Service without endpoints, and serves once it has one', () => {
    expect(r.noEndpoints).toBe('refused');
    expect(r.afterEndpoint).toBe('backend-0');
  });

  it('drains a removed backend at weight 0, sends new connections elsewhere, then deletes it', () => {
    expect(r.afterRemoval).toBe('backend-1');
    expect(r.afterMove).toEqual(['backend-1', 'backend-1', 'backend-1']);
    expect(r.draining).toContainEqual({ address: '10.250.11.2', weight: 0, active: 1 });
    expect(r.draining).toContainEqual({ address: '10.250.12.2', weight: 1, active: 0 });
    expect(r.deletedBeforeTimeout).toBe(0);
    expect(r.deletedAfterTimeout).toBe(1);
    expect(r.afterDrain).toEqual(['10.250.12.2']);
  });

  it('removes a deleted Service from IPVS and kube-ipvs0', () => {
    expect(r.afterDelete).not.toContain('10.96.0.104');
    expect(r.afterDelete).toContain('10.96.0.100');
    expect(r.ipvsadm).not.toContain('10.96.0.104');
    expect(r.deletedGone).not.toMatch(/^backend-/);
  });

  it('explains the live table like ipvsadm', () => {
    expect(r.explain).toMatch(/TCP {2}10\.96\.0\.100:80 rr\n {2}-> 10\.250\.1[12]\.2:8080 +Masq/);
    expect(r.history[0]).toEqual({ kind: 'full', ok: true });
    expect(r.history.slice(1).every((h: { kind: string; ok: boolean }) => h.kind === 'partial' && h.ok)).toBe(
      true,
    );
  });

  it('--cleanup flushes every virtual server (one in excludeCIDRs too, as upstream) and removes the rest ipvs mode created', () => {
    expect(r.cleanup).toMatchObject({ deletedServices: 6, destroyedIpsets: 17, deletedInterface: true });
    expect(r.afterCleanup.ipvsadm).not.toMatch(/^(TCP|UDP|SCTP|FWM) /m);
    expect(r.afterCleanup.link).not.toBe(0);
    expect(r.afterCleanup.ipsets).toBe('');
    expect(r.afterCleanup.natChains).not.toContain('KUBE-');
    expect(r.afterCleanup.filterChains).not.toContain('KUBE-');
  });
});
