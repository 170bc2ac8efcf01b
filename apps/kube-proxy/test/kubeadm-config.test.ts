import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildProgram } from '../src/index';

// kubeadm's ConfigMap: config.conf holds every v1alpha1 field with its zero value.
const configMap = parse(
  readFileSync(join(import.meta.dirname, 'fixtures', 'kubeadm-v1.32-kube-proxy-configmap.yaml'), 'utf8'),
) as { data: Record<string, string> };
const dir = mkdtempSync(join(tmpdir(), `na-kp-kubeadm-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const configPath = join(dir, 'config.conf');
writeFileSync(configPath, configMap.data['config.conf']!);

async function resolve(
  args: string[],
): Promise<{ code: number; err: string; config: Record<string, unknown> }> {
  let err = '';
  const out = join(dir, `resolved-${Math.random().toString(36).slice(2)}.yaml`);
  const program = buildProgram({ stdout: () => undefined, stderr: (t) => (err += t) });
  await program.parseAsync(['node', 'kube-proxy', ...args, `--write-config-to=${out}`]);
  const code = program.exitCode ?? 0;
  return { code, err, config: code === 0 ? parse(readFileSync(out, 'utf8')) : {} };
}

// What upstream v1.32's SetDefaults_KubeProxyConfiguration, component-base's recommended logging
// defaults and platformApplyDefaults make of kubeadm's config.conf, field by field.
const UPSTREAM_EFFECTIVE = {
  apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
  kind: 'KubeProxyConfiguration',
  bindAddress: '0.0.0.0',
  bindAddressHardFail: false,
  clientConnection: {
    acceptContentTypes: '',
    burst: 10,
    contentType: 'application/vnd.kubernetes.protobuf',
    kubeconfig: '/var/lib/kube-proxy/kubeconfig.conf',
    qps: 5,
  },
  clusterCIDR: '10.244.0.0/16',
  configSyncPeriod: '15m0s',
  conntrack: {
    maxPerCore: 32768,
    min: 131072,
    tcpBeLiberal: false,
    tcpCloseWaitTimeout: '1h0m0s',
    tcpEstablishedTimeout: '24h0m0s',
    udpStreamTimeout: '0s',
    udpTimeout: '0s',
  },
  detectLocal: { bridgeInterface: '', interfaceNamePrefix: '' },
  detectLocalMode: 'ClusterCIDR',
  enableProfiling: false,
  featureGates: {},
  healthzBindAddress: '0.0.0.0:10256',
  hostnameOverride: 'kubeadm-node-1',
  iptables: {
    localhostNodePorts: true,
    masqueradeAll: false,
    masqueradeBit: 14,
    minSyncPeriod: '1s',
    syncPeriod: '30s',
  },
  ipvs: {
    excludeCIDRs: null,
    minSyncPeriod: '0s',
    scheduler: '',
    strictARP: false,
    syncPeriod: '30s',
    tcpFinTimeout: '0s',
    tcpTimeout: '0s',
    udpTimeout: '0s',
  },
  logging: {
    flushFrequency: '5s',
    format: 'text',
    options: {
      json: { infoBufferSize: '0', splitStream: false },
      text: { infoBufferSize: '0', splitStream: false },
    },
    verbosity: 0,
    vmodule: null,
  },
  metricsBindAddress: '127.0.0.1:10249',
  mode: 'iptables',
  nftables: { masqueradeAll: false, masqueradeBit: 14, minSyncPeriod: '1s', syncPeriod: '30s' },
  nodePortAddresses: null,
  oomScoreAdj: -999,
  portRange: '',
  showHiddenMetricsForVersion: '',
  winkernel: {
    enableDSR: false,
    forwardHealthCheckVip: false,
    networkName: '',
    rootHnsEndpointName: '',
    sourceVip: '',
  },
  // Ours (not in v1alpha1), at its default.
  userspaceBindOnly: false,
};

describe("kubeadm's KubeProxyConfiguration", () => {
  it("starts from kubeadm's DaemonSet arguments; the effective configuration is upstream's, field by field", async () => {
    const r = await resolve([`--config=${configPath}`, '--hostname-override=kubeadm-node-1']);
    expect(r.code, r.err).toBe(0);
    expect(r.config).toEqual(UPSTREAM_EFFECTIVE);
  });

  it('-v, --logging-format and --hostname-override override the file; other field flags are ignored with a warning, as upstream', async () => {
    const r = await resolve([
      `--config=${configPath}`,
      '--hostname-override=n2',
      '-v',
      '4',
      '--logging-format=json',
      '--iptables-sync-period=45s',
      '--kube-api-qps=20',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.config).toMatchObject({
      hostnameOverride: 'n2',
      logging: { verbosity: 4, format: 'json' },
      // Upstream's Options.Complete replaces the flag-built configuration with the file's.
      iptables: { syncPeriod: '30s', minSyncPeriod: '1s' },
      clientConnection: { qps: 5, burst: 10 },
    });
    expect(r.err).toMatch(/^warning: --iptables-sync-period is ignored: a --config file is given/m);
    expect(r.err).toMatch(/^warning: --kube-api-qps is ignored: a --config file is given/m);
    expect(r.err).not.toContain('--hostname-override is ignored');
    for (const [flag, level] of [
      ['--v=6', 6],
      ['-v=5', 5],
      ['-v3', 3],
    ] as const) {
      const r2 = await resolve([`--config=${configPath}`, flag]);
      expect((r2.config.logging as { verbosity: number }).verbosity, flag).toBe(level);
    }
  });

  it('defaults an IPv6 bindAddress to IPv6 healthz/metrics addresses and appends missing ports', async () => {
    const v6 = join(dir, 'v6.conf');
    writeFileSync(
      v6,
      configMap.data['config.conf']!.replace('bindAddress: 0.0.0.0', 'bindAddress: "::"').replace(
        'metricsBindAddress: ""',
        'metricsBindAddress: "::1"',
      ),
    );
    const r = await resolve([`--config=${v6}`]);
    expect(r.code, r.err).toBe(0);
    expect(r.config.healthzBindAddress).toBe('[::]:10256');
    expect(r.config.metricsBindAddress).toBe('[::1]:10249');
  });

  it('validates after defaulting, naming field and value as upstream', async () => {
    const bad = join(dir, 'bad.conf');
    writeFileSync(
      bad,
      configMap.data['config.conf']!.replace('configSyncPeriod: 0s', 'configSyncPeriod: -1s').replace(
        'verbosity: 0',
        'verbosity: 0\n  format: xml',
      ),
    );
    const r = await resolve([`--config=${bad}`]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('configSyncPeriod: invalid value "-1s": must be greater than 0');
    expect(r.err).toContain('logging.format: invalid value "xml": Unsupported log format');
  });
});
