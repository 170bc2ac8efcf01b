/**
 * Integration test on a real IPVS kernel: boots the micro-VM once, runs scenario.ts inside, then
 * checks every library result against itself and against `ipvsadm` output captured in the VM.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../../../../tools/bundle/bundle-entry';
import { runInVm, VM_TEST_TIMEOUT_MS } from '../../../../tools/vm/vm';
import type { Destination, Service } from '../../src/index';
import { parseList, parseStats, parseTimeouts } from './ipvsadm-text';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: JSON from the VM, narrowed per assertion
let r: any;
const disposers: (() => void)[] = [];
afterAll(() => {
  for (const dispose of disposers) dispose();
});

beforeAll(async () => {
  // With a V8 code cache (tools/bundle/code-cache.ts): compiling it is most of a Node start under TCG.
  const scenario = bundleEntry(
    fileURLToPath(new URL('./scenario.ts', import.meta.url)),
    {},
    { codeCache: true },
  );
  disposers.push(scenario.dispose);
  const result = await runInVm({
    command: 'node',
    args: [scenario.file],
    cwd: repoRoot,
    timeoutMs: 240_000,
  });
  if (result.exitCode !== 0)
    throw new Error(`scenario failed (${result.exitCode}):\n${result.stderr}\n${result.stdout}`);
  const line = result.stdout.split('\n').find((l) => l.startsWith('SCENARIO-RESULT '));
  console.log(
    `ipvs scenario: ${Math.round(result.durationMs / 1000)} s, boot ${result.bootMs} ms, speed factor ${result.speedFactor}, qemu ${Math.round(result.qemuCpuMs / 100) / 10} CPU-s`,
  );
  if (!line) throw new Error(`no result line in:\n${result.stdout}`);
  r = JSON.parse(line.slice('SCENARIO-RESULT '.length), (_k, v) =>
    typeof v === 'string' && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v,
  );
}, VM_TEST_TIMEOUT_MS);

const svcKey = (s: Service) =>
  s.fwmark
    ? `FWM ${s.fwmark}${s.family === 'ipv6' ? ' IPv6' : ''}`
    : `${s.protocol!.toUpperCase()} ${s.family === 'ipv6' ? `[${s.address}]` : s.address}:${s.port}`;
const destKey = (d: Destination) =>
  d.family === 'ipv6' ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
const fwdName = { masquerade: 'Masq', local: 'Local', tunnel: 'Tunnel', 'direct-route': 'Route' } as const;

describe('IPVS in the micro-VM, cross-checked with ipvsadm', () => {
  it('reports the same version and connection table size as ipvsadm', () => {
    expect(r.infoIpvsadm).toBe(
      `IP Virtual Server version ${r.info.version} (size=${r.info.connectionTableSize})`,
    );
  });

  it('adds IPv4, IPv6, SCTP and fwmark services that ipvsadm lists identically', () => {
    const ours: Service[] = r.added.ours;
    const theirs = parseList(r.added.ipvsadm);
    expect(ours.map(svcKey).sort()).toEqual(theirs.map((s) => s.key).sort());
    expect(theirs).toHaveLength(5);
    for (const s of ours) expect(theirs.find((t) => t.key === svcKey(s))?.scheduler).toBe(s.scheduler);
    const extra = Object.fromEntries(theirs.map((t) => [t.key, t.extra]));
    expect(extra['UDP [fd00::1]:53']).toBe('persistent 60 mask 64');
    expect(extra['FWM 7']).toBe('(sh-fallback,sh-port)');
    expect(extra['SCTP 10.0.0.2:3868']).toBe('ops');
    expect(ours.find((s) => s.fwmark === 7)?.flags).toMatchObject({
      shFallback: true,
      shPort: true,
      persistent: false,
    });
    expect(ours.find((s) => s.protocol === 'sctp')?.flags.onePacket).toBe(true);
  });

  it('gets one service and tells existing from missing ones', () => {
    expect(r.get).toMatchObject({
      family: 'ipv6',
      protocol: 'udp',
      address: 'fd00::1',
      port: 53,
      scheduler: 'wrr',
      timeout: 60,
      netmask: 64,
    });
    expect(r.get.flags.persistent).toBe(true);
    expect(r.exists).toEqual({ tcp: true, missing: false });
  });

  it('updates a service (scheduler, persistence, netmask)', () => {
    expect(r.updated.ours).toMatchObject({ scheduler: 'wlc', timeout: 120, netmask: 24 });
    expect(parseList(r.updated.ipvsadm)[0]).toMatchObject({
      key: 'TCP 10.0.0.1:80',
      scheduler: 'wlc',
      extra: 'persistent 120 mask 255.255.255.0',
    });
  });

  it('adds destinations with every forwarding method, weights, thresholds and tunnel settings', () => {
    const theirs = parseList(r.dests.ipvsadm);
    for (const [name, key] of [
      ['tcp', 'TCP 10.0.0.1:80'],
      ['udp6', 'UDP [fd00::1]:53'],
      ['fwm', 'FWM 7'],
    ] as const) {
      const ours: Destination[] = r.dests[name];
      const listed = theirs.find((t) => t.key === key)!.dests;
      expect(ours.map((d) => [destKey(d), fwdName[d.forwarding], d.weight]).sort()).toEqual(
        listed.map((d) => [d.address, d.forward, d.weight]).sort(),
      );
    }
    const tcp: Destination[] = r.dests.tcp;
    expect(tcp).toHaveLength(4);
    const dr = tcp.find((d) => d.address === '10.1.0.2')!;
    expect([dr.upperThreshold, dr.lowerThreshold]).toEqual([10, 2]);
    expect(r.dests.thresholds).toMatch(/-> 10\.1\.0\.2:8080\s+10\s+2\s/);
    const tun = tcp.find((d) => d.address === '10.1.0.3')!;
    expect(tun).toMatchObject({
      forwarding: 'tunnel',
      tunnelType: 'gue',
      tunnelPort: 6080,
      tunnelFlags: { checksum: true, remoteChecksum: false },
    });
    expect(r.dests.tunInfo).toMatch(/-> 10\.1\.0\.3:8080\s+Tunnel\s+gue:6080:\+c\s/);
    expect(r.dests.udp6[0]).toMatchObject({ address: 'fd00::10', port: 5353, family: 'ipv6', weight: 7 });
  });

  it('updates and deletes destinations', () => {
    const ours: Destination[] = r.destsAfter.ours;
    expect(ours.map((d) => d.address).sort()).toEqual(['10.1.0.1', '10.1.0.2', '10.1.0.3']);
    expect(ours.find((d) => d.address === '10.1.0.1')?.weight).toBe(9);
    const listed = parseList(r.destsAfter.ipvsadm)[0]!.dests;
    expect(listed.map((d) => [d.address, d.weight]).sort()).toEqual(
      ours.map((d) => [destKey(d), d.weight]).sort(),
    );
  });

  it('turns kernel errnos into typed errors naming the service or destination', () => {
    const e = r.errors;
    expect(e.duplicateService).toMatchObject({ name: 'IpvsAlreadyExistsError', code: 'IPVS_ALREADY_EXISTS' });
    expect(e.duplicateService.message).toContain('service TCP 10.0.0.1:80');
    expect(e.duplicateDest).toMatchObject({ code: 'IPVS_ALREADY_EXISTS' });
    expect(e.duplicateDest.message).toContain('destination 10.1.0.1:8080 of service TCP 10.0.0.1:80');
    for (const k of [
      'deleteMissingService',
      'getMissingService',
      'deleteMissingDest',
      'destOnMissingService',
    ]) {
      expect(e[k], k).toMatchObject({ name: 'IpvsNotFoundError', code: 'IPVS_NOT_FOUND' });
    }
    expect(e.getMissingService.message).toContain('FWM 4242');
  });

  it('rejects bad input with typed errors and leaves the kernel table unchanged', () => {
    const e = r.errors;
    expect(e.unknownScheduler).toMatchObject({ code: 'IPVS_INVALID_FIELD', field: 'service.scheduler' });
    expect(e.port0).toMatchObject({ code: 'IPVS_INVALID_FIELD', field: 'service.port' });
    expect(e.port70000).toMatchObject({ code: 'IPVS_INVALID_FIELD', field: 'service.port' });
    expect(e.ipv6InIpv4).toMatchObject({ code: 'IPVS_INVALID_FIELD', field: 'service.address' });
    expect(e.ipv6DestOnIpv4Masq).toMatchObject({ code: 'IPVS_INVALID_FIELD', field: 'destination.address' });
    expect(r.unchangedAfterErrors).toBe(true);
  });

  it('gets and sets the TCP, TCP-FIN and UDP timeouts', () => {
    const t = r.timeouts;
    expect(t.initial).toEqual(parseTimeouts(t.initialIpvsadm));
    expect(t.set).toEqual({ tcp: 1000, tcpFin: 100, udp: 200 });
    expect(parseTimeouts(t.setIpvsadm)).toEqual(t.set);
    expect(t.partial).toEqual({ tcp: 1000, tcpFin: 100, udp: 250 });
  });

  it('deletes a service', () => {
    expect(r.deleted.exists).toBe(false);
    expect(parseList(r.deleted.ipvsadm).map((s) => s.key)).not.toContain('FWM 9 IPv6');
    expect(parseList(r.deleted.ipvsadm)).toHaveLength(4);
  });

  it('opens a handle in another network namespace by path', () => {
    expect(r.netns.ours.map(svcKey)).toEqual(['TCP 10.77.0.1:80']);
    expect(r.netns.dests.map(destKey)).toEqual(['10.78.0.1:80']);
    expect(r.netns.duplicate).toMatchObject({ code: 'IPVS_ALREADY_EXISTS' });
    expect(parseList(r.netns.inside).map((s) => s.key)).toEqual(['TCP 10.77.0.1:80']);
    expect(parseList(r.netns.outside).map((s) => s.key)).not.toContain('TCP 10.77.0.1:80');
  });

  it('forwards real traffic through a masquerade service and counts it like ipvsadm', () => {
    const p = r.packets;
    expect(p.responses).toHaveLength(6);
    expect(new Set(p.responses)).toEqual(new Set(['server1', 'server2']));
    const stats = parseStats(p.ipvsadm);
    const svc: Service = p.service;
    expect(p.before.connections).toBe(0n);
    expect(svc.stats!.connections).toBe(6n);
    expect(svc.stats!.packetsIn).toBeGreaterThan(0n);
    expect(svc.stats!.bytesOut).toBeGreaterThan(0n);
    const s = svc.stats!;
    expect(stats.get('TCP 10.99.0.1:80')).toEqual([
      s.connections,
      s.packetsIn,
      s.packetsOut,
      s.bytesIn,
      s.bytesOut,
    ]);
    for (const d of p.dests as Destination[]) {
      const ds = d.stats!;
      // rr over two servers: three each.
      expect(ds.connections).toBe(3n);
      expect(stats.get(`-> ${destKey(d)}`)).toEqual([
        ds.connections,
        ds.packetsIn,
        ds.packetsOut,
        ds.bytesIn,
        ds.bytesOut,
      ]);
    }
  });

  it('zeroes the counters', () => {
    expect(r.zeroed.service.stats.connections).toBe(0n);
    expect(r.zeroed.service.stats.bytesIn).toBe(0n);
    expect(parseStats(r.zeroed.ipvsadm).get('TCP 10.99.0.1:80')).toEqual([0n, 0n, 0n, 0n, 0n]);
  });

  it('handles concurrent adds, dumps and gets on one handle', () => {
    expect(r.concurrency.finalCount).toBe(300);
    expect(r.concurrency.ipvsadmLines).toBe(300);
    // The dump was queued behind the adds issued before it.
    expect(r.concurrency.midwayListLength).toBe(300);
    expect(r.concurrency.destCounts).toEqual([1]);
  });

  it('flushes everything', () => {
    expect(r.flushed.ours).toBe(0);
    expect(parseList(r.flushed.ipvsadm)).toEqual([]);
  });
});
