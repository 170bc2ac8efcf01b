import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildProgram, FLAGS, flagSpec } from '../src/index';

// The recorded `--help` of upstream kube-proxy v1.36.3 (fidelity/cli-v1.36 in the repository, never
// edited): every flag it lists must parse here with its type and default and land in the
// KubeProxyConfiguration field upstream's cmd/kube-proxy/app/options.go binds it to.

const tsvPath = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'fidelity',
  'cli-v1.36',
  'kube-proxy.flags.upstream.tsv',
);

interface UpstreamFlag {
  name: string;
  short: string;
  type: string;
  default: string;
  deprecated: string;
}

const UPSTREAM: UpstreamFlag[] = readFileSync(tsvPath, 'utf8')
  .split('\n')
  .slice(1)
  .filter((l) => l.trim() !== '')
  .map((l) => {
    const [name, short, type, def, deprecated] = l.split('\t');
    return {
      name: name!.slice(2),
      short: short ?? '',
      type: type ?? '',
      default: def ?? '',
      deprecated: deprecated ?? '',
    };
  });

/** options.go's bindings (v1alpha1 paths), written from upstream's source, not from our table. */
const UPSTREAM_FIELDS: Record<string, readonly string[]> = {
  'bind-address': ['bindAddress'],
  'bind-address-hard-fail': ['bindAddressHardFail'],
  'cluster-cidr': ['clusterCIDR'],
  'config-sync-period': ['configSyncPeriod'],
  'conntrack-max-per-core': ['conntrack.maxPerCore'],
  'conntrack-min': ['conntrack.min'],
  'conntrack-tcp-be-liberal': ['conntrack.tcpBeLiberal'],
  'conntrack-tcp-timeout-close-wait': ['conntrack.tcpCloseWaitTimeout'],
  'conntrack-tcp-timeout-established': ['conntrack.tcpEstablishedTimeout'],
  'conntrack-udp-timeout': ['conntrack.udpTimeout'],
  'conntrack-udp-timeout-stream': ['conntrack.udpStreamTimeout'],
  'detect-local-mode': ['detectLocalMode'],
  'feature-gates': ['featureGates'],
  'healthz-bind-address': ['healthzBindAddress'],
  'hostname-override': ['hostnameOverride'],
  'iptables-localhost-nodeports': ['iptables.localhostNodePorts'],
  'iptables-masquerade-bit': ['iptables.masqueradeBit'],
  // The internal SyncPeriod/MinSyncPeriod of every mode but ipvs.
  'iptables-min-sync-period': ['iptables.minSyncPeriod', 'nftables.minSyncPeriod'],
  'iptables-sync-period': ['iptables.syncPeriod', 'nftables.syncPeriod'],
  'ipvs-exclude-cidrs': ['ipvs.excludeCIDRs'],
  'ipvs-min-sync-period': ['ipvs.minSyncPeriod'],
  'ipvs-scheduler': ['ipvs.scheduler'],
  'ipvs-strict-arp': ['ipvs.strictARP'],
  'ipvs-sync-period': ['ipvs.syncPeriod'],
  'ipvs-tcp-timeout': ['ipvs.tcpTimeout'],
  'ipvs-tcpfin-timeout': ['ipvs.tcpFinTimeout'],
  'ipvs-udp-timeout': ['ipvs.udpTimeout'],
  'kube-api-burst': ['clientConnection.burst'],
  'kube-api-content-type': ['clientConnection.contentType'],
  'kube-api-qps': ['clientConnection.qps'],
  kubeconfig: ['clientConnection.kubeconfig'],
  'log-flush-frequency': ['logging.flushFrequency'],
  'log-json-info-buffer-size': ['logging.options.json.infoBufferSize'],
  'log-json-split-stream': ['logging.options.json.splitStream'],
  'log-text-info-buffer-size': ['logging.options.text.infoBufferSize'],
  'log-text-split-stream': ['logging.options.text.splitStream'],
  'logging-format': ['logging.format'],
  // Linux.MasqueradeAll: both v1alpha1 sections.
  'masquerade-all': ['iptables.masqueradeAll', 'nftables.masqueradeAll'],
  'metrics-bind-address': ['metricsBindAddress'],
  'nodeport-addresses': ['nodePortAddresses'],
  'oom-score-adj': ['oomScoreAdj'],
  'pod-bridge-interface': ['detectLocal.bridgeInterface'],
  'pod-interface-name-prefix': ['detectLocal.interfaceNamePrefix'],
  profiling: ['enableProfiling'],
  'proxy-mode': ['mode'],
  'show-hidden-metrics-for-version': ['showHiddenMetricsForVersion'],
  v: ['logging.verbosity'],
  vmodule: ['logging.vmodule'],
};

/** Flags that are not configuration fields: accepted, with their own effect. */
const NOT_CONFIG = new Set([
  'boot-id-file',
  'cleanup',
  'config',
  'help',
  'init-only',
  'machine-id-file',
  'master',
  'version',
  'write-config-to',
]);

/** A value of the flag's type (distinct from its default), and what the field then holds. */
const SAMPLES: Record<string, [string, unknown]> = {
  'bind-address': ['10.1.2.3', '10.1.2.3'],
  'cluster-cidr': ['10.9.0.0/16', '10.9.0.0/16'],
  'conntrack-max-per-core': ['1000', 1000],
  'conntrack-min': ['2000', 2000],
  'detect-local-mode': ['NodeCIDR', 'NodeCIDR'],
  'feature-gates': ['EventedPLEG=true', { EventedPLEG: true }],
  'healthz-bind-address': ['127.0.0.1:9999', '127.0.0.1:9999'],
  'hostname-override': ['Node-9', 'node-9'],
  'iptables-localhost-nodeports': ['false', false],
  'iptables-masquerade-bit': ['12', 12],
  'ipvs-exclude-cidrs': ['10.0.0.0/8,192.168.0.0/16', ['10.0.0.0/8', '192.168.0.0/16']],
  'ipvs-scheduler': ['lc', 'lc'],
  'kube-api-burst': ['20', 20],
  'kube-api-content-type': ['application/json', 'application/json'],
  'kube-api-qps': ['7.5', 7.5],
  kubeconfig: ['/etc/kp.conf', '/etc/kp.conf'],
  'log-json-info-buffer-size': ['64Ki', '64Ki'],
  'log-text-info-buffer-size': ['1M', '1M'],
  'logging-format': ['json', 'json'],
  'metrics-bind-address': ['0.0.0.0:10249', '0.0.0.0:10249'],
  'nodeport-addresses': ['10.0.0.0/8', ['10.0.0.0/8']],
  'oom-score-adj': ['100', 100],
  'pod-bridge-interface': ['cbr0', 'cbr0'],
  'pod-interface-name-prefix': ['veth', 'veth'],
  'proxy-mode': ['nftables', 'nftables'],
  'show-hidden-metrics-for-version': ['1.35', '1.35'],
  v: ['3', 3],
  vmodule: [
    'proxier=4,iptables*=5',
    [
      { filePattern: 'proxier', verbosity: 4 },
      { filePattern: 'iptables*', verbosity: 5 },
    ],
  ],
};

function sampleFor(f: UpstreamFlag): [string, unknown] {
  if (SAMPLES[f.name]) return SAMPLES[f.name]!;
  if (f.type === 'bool') return ['true', true];
  if (f.type === 'duration') return ['7s', '7s'];
  throw new Error(`no sample for --${f.name} (${f.type})`);
}

const dir = mkdtempSync(join(tmpdir(), `na-kp-flags-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]) {
  let out = '';
  let err = '';
  const program = buildProgram({ stdout: (t) => (out += t), stderr: (t) => (err += t) });
  let code: number | undefined;
  try {
    await program.parseAsync(['node', 'kube-proxy', ...args]);
  } catch (e) {
    code = (e as { exitCode?: number }).exitCode ?? 1;
  }
  return { out, err, code: code ?? program.exitCode ?? 0 };
}

function at(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

describe('every flag of upstream kube-proxy v1.36.3', () => {
  it('the recorded list is the one the fixture README describes', () => {
    expect(UPSTREAM.length).toBe(57);
    expect(UPSTREAM.map((f) => f.name)).toContain('vmodule');
  });

  it('is in our table with upstream type, shorthand and default, and none is deprecated', () => {
    for (const f of UPSTREAM) {
      if (f.name === 'help') continue; // commander's own -h, --help
      const spec = flagSpec(f.name);
      expect(spec, f.name).toBeDefined();
      expect({ flag: f.name, type: spec!.type, default: spec!.default, short: spec!.short ?? '' }).toEqual({
        flag: f.name,
        type: f.type,
        default: f.default,
        short: f.short,
      });
      expect(spec!.deprecated, f.name).toBeUndefined();
    }
    // Ours beyond upstream's list: the hidden deprecated ports and our two extensions only.
    const extra = FLAGS.filter((s) => !UPSTREAM.some((f) => f.name === s.flag)).map((s) => s.flag);
    expect(extra.sort()).toEqual(['healthz-port', 'metrics-port', 'proxy-port-range', 'userspace-bind-only']);
  });

  it('--help lists each with its type and default', async () => {
    const { out } = await run(['--help']);
    for (const f of UPSTREAM) {
      const line = out.split('\n').find((l) => new RegExp(`--${f.name}(\\s|$)`).test(l));
      expect(line, f.name).toBeDefined();
      if (f.name === 'help') continue;
      if (f.type === 'bool') expect(line, f.name).toContain('[bool]');
      else if (f.type !== 'version[=true]') expect(line, f.name).toContain(`<${f.type}>`);
      if (f.default !== '') {
        // commander wraps long descriptions: the default may be on a following line.
        const from = out.indexOf(line!);
        const rest = out.slice(from, from + 600).replace(/\s+/g, ' ');
        expect(rest, f.name).toContain(`(default ${f.default})`);
      }
    }
    expect(out).not.toContain('--healthz-port');
  });

  it('without --config, each lands in the field options.go binds it to', async () => {
    for (const f of UPSTREAM) {
      if (NOT_CONFIG.has(f.name)) continue;
      const paths = UPSTREAM_FIELDS[f.name];
      expect(paths, `no upstream field listed for --${f.name}`).toBeDefined();
      const [text, want] = sampleFor(f);
      const out = join(dir, `${f.name}.yaml`);
      const flag = f.short ? `-${f.short}=${text}` : `--${f.name}=${text}`;
      const r = await run([flag, `--write-config-to=${out}`]);
      expect(r.code, `${flag}: ${r.err}`).toBe(0);
      const c = parse(readFileSync(out, 'utf8'));
      for (const p of paths!) expect(at(c, p), `${flag} → ${p}`).toEqual(want);
    }
  });

  it('the flags that are not fields are accepted; the cAdvisor ones are warned about as without effect', async () => {
    const out = join(dir, 'not-config.yaml');
    const r = await run([
      '--machine-id-file=/etc/machine-id',
      '--boot-id-file',
      '/proc/sys/kernel/random/boot_id',
      '--master=https://10.0.0.1:6443',
      '--cleanup=false',
      '--init-only=false',
      `--write-config-to=${out}`,
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.err.trim().split('\n')).toEqual([
      expect.stringMatching(/^warning: --boot-id-file has no effect: a cAdvisor flag/),
      expect.stringMatching(/^warning: --machine-id-file has no effect: a cAdvisor flag/),
    ]);
  });

  it('list and map flags accumulate over repetitions, as pflag', async () => {
    const out = join(dir, 'repeated.yaml');
    const r = await run([
      '--nodeport-addresses=10.0.0.0/8',
      '--nodeport-addresses',
      '192.168.0.0/16',
      '--feature-gates=EventedPLEG=true',
      '--feature-gates=ContainerCheckpoint=false',
      `--write-config-to=${out}`,
    ]);
    expect(r.code, r.err).toBe(0);
    const c = parse(readFileSync(out, 'utf8'));
    expect(c.nodePortAddresses).toEqual(['10.0.0.0/8', '192.168.0.0/16']);
    expect(c.featureGates).toEqual({ EventedPLEG: true, ContainerCheckpoint: false });
  });

  it('a value not of the flag type is refused in one line naming the flag and the value', async () => {
    for (const [flag, value] of [
      ['bind-address', 'banana'],
      ['healthz-bind-address', '1.2.3.4:notaport'],
      ['conntrack-min', '1.5'],
      ['kube-api-qps', 'fast'],
      ['config-sync-period', '15'],
      ['log-text-info-buffer-size', '12Qi'],
      ['feature-gates', 'Foo'],
      ['vmodule', 'proxier'],
      ['profiling', 'yes'],
      ['v', 'high'],
    ] as const) {
      const r = await run([`--${flag}=${value}`, `--write-config-to=${join(dir, 'bad.yaml')}`]);
      expect(r.code, flag).toBe(1);
      const lines = r.err.trim().split('\n');
      expect(lines, flag).toHaveLength(1);
      expect(lines[0], flag).toContain(`--${flag}: invalid value ${JSON.stringify(value)}`);
    }
  });
});
