import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeProxyConfiguration } from '@nodeagent/kube-proxy';
import { ipvsOptionsFromConfig } from '@nodeagent/kube-proxy/ipvs';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildProgram } from '../src/index';

const dir = mkdtempSync(join(tmpdir(), `na-kp-app-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = join(import.meta.dirname, 'fixtures', 'cluster.yaml');

async function run(args: string[], stdin = '') {
  let out = '';
  let err = '';
  const program = buildProgram({
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    readStdin: () => stdin,
  });
  await program.parseAsync(['node', 'nodeagent-kube-proxy', ...args]);
  return { out, err, code: program.exitCode ?? 0 };
}

describe('flags and --config', () => {
  it('applies defaults and writes the resolved configuration', async () => {
    const path = join(dir, 'defaults.yaml');
    const r = await run(['--write-config-to', path]);
    expect(r.code).toBe(0);
    const c = parse(readFileSync(path, 'utf8'));
    expect(c.kind).toBe('KubeProxyConfiguration');
    expect(c.healthzBindAddress).toBe('0.0.0.0:10256');
    expect(c.iptables.minSyncPeriod).toBe('1s');
  });

  it('without --config the flags set their fields; with --config the file wins except logging and --hostname-override', async () => {
    const out = join(dir, 'flags-only.yaml');
    const bad = await run(['--nodeport-addresses', '192.168.0.0/16,primary', '--write-config-to', out]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('nodePortAddresses');
    const r = await run([
      '--cluster-cidr',
      '10.2.0.0/16',
      '--masquerade-all',
      '--iptables-min-sync-period',
      '2s',
      '--iptables-masquerade-bit',
      '12',
      '--v',
      '4',
      '--write-config-to',
      out,
    ]);
    expect(r.code, r.err).toBe(0);
    const c = parse(readFileSync(out, 'utf8'));
    expect(c.clusterCIDR).toBe('10.2.0.0/16');
    expect(c.iptables.minSyncPeriod).toBe('2s');
    // Upstream's --iptables-min-sync-period sets the running mode's period (all but ipvs).
    expect(c.nftables.minSyncPeriod).toBe('2s');
    expect(c.iptables.masqueradeAll).toBe(true);
    expect(c.nftables.masqueradeAll).toBe(true);
    // --iptables-masquerade-bit is the iptables (and ipvs) bit only; nftables keeps its own.
    expect(c.iptables.masqueradeBit).toBe(12);
    expect(c.nftables.masqueradeBit).toBe(14);
    expect(c.logging.verbosity).toBe(4);

    const cfg = join(dir, 'in.yaml');
    writeFileSync(
      cfg,
      'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: iptables\nclusterCIDR: 10.1.0.0/16\niptables:\n  syncPeriod: 10s\n',
    );
    const r2 = await run([
      '--config',
      cfg,
      '--cluster-cidr',
      '10.2.0.0/16',
      '--hostname-override',
      ' Node-A ',
      '--v',
      '4',
      '--write-config-to',
      out,
    ]);
    expect(r2.code, r2.err).toBe(0);
    const c2 = parse(readFileSync(out, 'utf8'));
    expect(c2.clusterCIDR).toBe('10.1.0.0/16');
    expect(c2.iptables.syncPeriod).toBe('10s');
    expect(c2.hostnameOverride).toBe('node-a');
    expect(c2.logging.verbosity).toBe(4);
    expect(r2.err.trim().split('\n')).toEqual([
      'warning: --cluster-cidr is ignored: a --config file is given, and as upstream its clusterCIDR wins over flags',
    ]);
  });

  it("accepts the deprecated --healthz-port/--metrics-port with pflag's warning; 0 disables the server", async () => {
    const out = join(dir, 'ports.yaml');
    const r = await run(['--healthz-port', '0', '--metrics-port', '10249', '--write-config-to', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.err.split('\n').map((l) => `${l}\n`)).toContain(
      // pflag's notice, word for word, on a line of its own.
      'Flag --healthz-port has been deprecated, This flag is deprecated and will be removed in a future release. Please use --healthz-bind-address instead.\n',
    );
    const c = parse(readFileSync(out, 'utf8'));
    expect(c.healthzBindAddress).toBe('');
    expect(c.metricsBindAddress).toBe('127.0.0.1:10249');
  });

  it('reports every invalid field with its value', async () => {
    const r = await run([
      '--proxy-mode',
      'kernelspace',
      '--iptables-masquerade-bit',
      '33',
      '--healthz-bind-address',
      'nope',
    ]);
    expect(r.code).toBe(1);
    // A bad flag value names the flag (pflag refuses it), the configuration's problems name the field.
    expect(r.err.trim().split('\n')).toEqual([
      'invalid configuration: --healthz-bind-address: invalid value "nope": not in a valid format (ip or ip:port)',
      expect.stringContaining('mode: invalid value "kernelspace"'),
      expect.stringContaining('iptables.masqueradeBit: invalid value 33'),
    ]);
  });

  it('accepts --proxy-mode userspace and --userspace-bind-only (default false)', async () => {
    const plain = join(dir, 'userspace-plain.yaml');
    expect((await run(['--proxy-mode', 'userspace', '--write-config-to', plain])).code).toBe(0);
    expect(parse(readFileSync(plain, 'utf8'))).toMatchObject({ mode: 'userspace', userspaceBindOnly: false });
    const bound = join(dir, 'userspace-bind.yaml');
    const r = await run(['--proxy-mode', 'userspace', '--userspace-bind-only', '--write-config-to', bound]);
    expect(r.code, r.err).toBe(0);
    expect(parse(readFileSync(bound, 'utf8'))).toMatchObject({ mode: 'userspace', userspaceBindOnly: true });
    const off = join(dir, 'userspace-off.yaml');
    expect((await run(['--userspace-bind-only', 'false', '--write-config-to', off])).code).toBe(0);
    expect(parse(readFileSync(off, 'utf8')).userspaceBindOnly).toBe(false);
  });

  it('reads userspaceBindOnly from a config file', async () => {
    const cfg = join(dir, 'userspace.yaml');
    writeFileSync(cfg, 'kind: KubeProxyConfiguration\nmode: userspace\nuserspaceBindOnly: true\n');
    const out = join(dir, 'userspace-out.yaml');
    expect((await run(['--config', cfg, '--write-config-to', out])).code).toBe(0);
    expect(parse(readFileSync(out, 'utf8')).userspaceBindOnly).toBe(true);
    writeFileSync(cfg, 'kind: KubeProxyConfiguration\nuserspaceBindOnly: sometimes\n');
    const bad = await run(['--config', cfg, '--write-config-to', out]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('userspaceBindOnly');
  });

  it('lists userspace mode in --help', async () => {
    let out = '';
    const program = buildProgram({ stdout: (t) => (out += t), stderr: (t) => (out += t) });
    await program.parseAsync(['node', 'nodeagent-kube-proxy', '--help']).catch(() => undefined);
    expect(out).toContain("'userspace'");
    expect(out).toContain('--userspace-bind-only');
  });

  it('rejects a config file with unknown fields', async () => {
    const cfg = join(dir, 'bad.yaml');
    writeFileSync(cfg, 'kind: KubeProxyConfiguration\niptables:\n  syncPeriodd: 1s\n');
    const r = await run(['--config', cfg, '--write-config-to', join(dir, 'x.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('iptables.syncPeriodd');
  });
});

describe('render', () => {
  it('prints the iptables-restore payload for Services and EndpointSlices from YAML', async () => {
    const r = await run([
      'render',
      fixture,
      '--hostname-override',
      'node-1',
      '--cluster-cidr',
      '10.244.0.0/16',
    ]);
    expect(r.code).toBe(0);
    // What the proxier's full sync writes: the big nat section first, then filter.
    expect(r.out.startsWith('*nat\n')).toBe(true);
    expect(r.out).toContain('\nCOMMIT\n*filter\n');
    expect(r.out).toContain('-A KUBE-SERVICES -m comment --comment "shop/web:http cluster IP"');
    expect(r.out).toContain('--dport 30080 -j KUBE-EXT-');
    expect(r.out).toContain('! -s 10.244.0.0/16 -j KUBE-MARK-MASQ');
    expect(r.out).toContain('"shop/lonely:http has no endpoints"');
    expect(r.out).not.toContain('shop/headless');
    expect(r.out.match(/-j DNAT/g)).toHaveLength(2);
  });

  it('reads stdin and renders both families with --ip-family dual', async () => {
    const r = await run(['render', '-', '--ip-family', 'dual'], readFileSync(fixture, 'utf8'));
    expect(r.code).toBe(0);
    expect(r.out).toContain('# iptables-restore input');
    expect(r.out).toContain('# ip6tables-restore input');
    expect(r.out.match(/\*nat/g)).toHaveLength(2);
  });

  it('honours --masquerade-all and reports modes it cannot render', async () => {
    const r = await run(['render', fixture, '--masquerade-all']);
    expect(r.out).toMatch(/-d 10\.96\.0\.50 -p tcp -m tcp --dport 80 -j KUBE-MARK-MASQ/);
    const u = await run(['render', fixture, '--proxy-mode', 'userspace']);
    expect(u.code).toBe(1);
    expect(u.err).toContain('"userspace" has no static ruleset');
    const bad = await run(['render', fixture, '--ip-family', 'IPv5']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--ip-family');
  });
});

describe('ipvs flags', () => {
  it('resolve into the ipvs section and reach the ipvs backend options', async () => {
    const out = join(dir, 'ipvs.yaml');
    const r = await run([
      '--proxy-mode',
      'ipvs',
      '--ipvs-scheduler',
      'wlc',
      '--ipvs-strict-arp',
      '--ipvs-exclude-cidrs',
      '10.200.0.0/16,fd00:200::/64',
      '--ipvs-min-sync-period',
      '2s',
      '--ipvs-tcp-timeout',
      '15m',
      '--write-config-to',
      out,
    ]);
    expect(r.code).toBe(0);
    const c = parse(readFileSync(out, 'utf8'));
    expect(c.mode).toBe('ipvs');
    expect(c.ipvs).toMatchObject({
      scheduler: 'wlc',
      strictARP: true,
      excludeCIDRs: ['10.200.0.0/16', 'fd00:200::/64'],
      minSyncPeriod: '2s',
      tcpTimeout: '15m',
    });
    const backend = ipvsOptionsFromConfig(loadKubeProxyConfiguration(readFileSync(out, 'utf8')), 'IPv4');
    expect(backend).toMatchObject({ scheduler: 'wlc', strictARP: true, excludeCIDRs: ['10.200.0.0/16'] });
    expect(backend.timeouts).toEqual({ tcp: 900, tcpFin: 0, udp: 0 });
    const bad = await run(['--proxy-mode', 'ipvs', '--ipvs-scheduler', 'fastest', '--write-config-to', out]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('ipvs.scheduler');
  });
});

describe('render --proxy-mode ipvs', () => {
  it('prints IPVS virtual servers, kube-ipvs0 addresses, the ipset batch and iptables rules', async () => {
    const r = await run([
      'render',
      fixture,
      '--proxy-mode',
      'ipvs',
      '--ipvs-scheduler',
      'lc',
      '--node-ip',
      '192.168.0.10',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^TCP {2}10\.96\.0\.50:80 lc {2}# /m);
    expect(r.out).toMatch(/^TCP {2}192\.168\.0\.10:30080 lc/m);
    expect(r.out).toContain('# kube-ipvs0 addresses\n10.96.0.50');
    expect(r.out).toContain('create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536');
    expect(r.out).toContain('add KUBE-NODE-PORT-TCP 30080');
    expect(r.out).toContain('-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT');
  });
});

describe('render --proxy-mode nftables', () => {
  it('prints an nft script replacing the kube-proxy table', async () => {
    const r = await run(['render', fixture, '--proxy-mode', 'nftables', '--cluster-cidr', '10.244.0.0/16']);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[1]).toBe('delete table ip kube-proxy');
    expect(r.out).toContain(
      'add element ip kube-proxy service-ips { 10.96.0.50 . tcp . 80 comment "shop/web:http" : goto cluster-endpoints-2 }',
    );
    expect(r.out).toContain(
      'service-nodeports { tcp . 30080 comment "shop/web:http" : goto nodeport-external-2 }',
    );
    expect(r.out).toContain(
      'no-endpoint-services { 10.96.0.51 . tcp . 80 comment "shop/lonely:http" : goto reject-chain }',
    );
    expect(r.out).toContain('ip saddr != 10.244.0.0/16 jump mark-for-masquerade');
  });
});

describe('explain', () => {
  it('explains one Service from saved iptables state', async () => {
    const rendered = await run(['render', fixture]);
    const saved = join(dir, 'saved.txt');
    writeFileSync(saved, rendered.out);
    const r = await run(['explain', 'shop/web', '--from-file', saved]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Service shop/web');
    expect(r.out).toContain('DNAT 10.244.1.10:8080');
    expect(r.out).toContain('DNAT 10.244.2.20:8080');
    const j = await run(['explain', 'shop/lonely', '--from-file', saved, '--json']);
    expect(JSON.parse(j.out).entryRules[0].target).toBe('REJECT');
    const nftListing = join(import.meta.dirname, 'fixtures', 'nft-list-table.txt');
    const n = await run(['explain', 'default/web', '--proxy-mode', 'nftables', '--from-file', nftListing]);
    expect(n.code).toBe(0);
    expect(n.out).toContain('DNAT 10.0.0.2:8080');
    const bad = await run(['explain', 'not-a-service', '--from-file', saved]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('namespace/name');
  });

  it('ipvs mode explains a virtual server address or "all", nothing else', async () => {
    const r = await run(['explain', 'shop/web', '--proxy-mode', 'ipvs']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('ipvs mode explains a virtual server address or "all"');
  });
});
