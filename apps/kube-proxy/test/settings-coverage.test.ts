import {
  checkSettingSupport,
  type IPFamily,
  type KubeProxyConfiguration,
  nodePortIPsFromConfig,
  parseKubeProxyConfiguration,
} from '@nodeagent/kube-proxy';
import { kubeProxyConfigurationSchema, SETTING_SUPPORT } from '@nodeagent/kube-proxy/config';
import { iptablesOptionsFromConfig } from '@nodeagent/kube-proxy/iptables';
import { ipvsOptionsFromConfig } from '@nodeagent/kube-proxy/ipvs';
import { nftablesOptionsFromConfig } from '@nodeagent/kube-proxy/nftables';
import { planNodeSysctls } from '@nodeagent/kube-proxy/runtime';
import { userspaceOptionsFromConfig } from '@nodeagent/kube-proxy/userspace';
import { describe, expect, it } from 'vitest';
import { checkSettings, daemonLogger, daemonSettings } from '../src/daemon-settings';
import { applyPlatformDefaults } from '../src/resolve-configuration';
import { familiesFor } from '../src/run-proxy';

// Every KubeProxyConfiguration field is either read by the code that builds the daemon or
// met at start by a check that names it (refused or warned): none is accepted and ignored.

interface ZodLike {
  def: { type: string; innerType?: ZodLike };
  shape?: Record<string, ZodLike>;
}

/** Leaf field paths of the schema: objects are walked, everything else (lists, maps too) is a leaf. */
function schemaLeaves(schema: ZodLike, prefix = ''): string[] {
  let s = schema;
  while (s.def.innerType && ['default', 'prefault', 'nullable', 'optional'].includes(s.def.type)) {
    s = s.def.innerType;
  }
  if (s.def.type === 'object' && s.shape) {
    return Object.entries(s.shape).flatMap(([k, v]) => schemaLeaves(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

const LEAVES = schemaLeaves(kubeProxyConfigurationSchema as unknown as ZodLike);

/** A view of `config` that records which leaf fields are read. */
function recording<T extends object>(value: T, reads: Set<string>, prefix = ''): T {
  return new Proxy(value, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== 'string') return v;
      const path = prefix ? `${prefix}.${key}` : key;
      if (LEAVES.includes(path)) {
        reads.add(path);
        return v;
      }
      return v !== null && typeof v === 'object' ? recording(v as object, reads, path) : v;
    },
  });
}

/** The configuration consumers the daemon runs (the proxiers' options, node set-up, daemon settings). */
const FACTS = {
  nodeIPs: ['10.0.0.5', 'fd00::5'],
  podCIDRs: ['10.244.1.0/24'],
  localAddresses: ['10.0.0.5', '127.0.0.1'],
};
function runConsumers(c: KubeProxyConfiguration): void {
  for (const family of ['IPv4', 'IPv6'] as IPFamily[]) {
    familiesFor(c);
    daemonSettings(c);
    daemonLogger(c, () => undefined);
    planNodeSysctls(c, 2);
    nodePortIPsFromConfig(c, family, FACTS);
    const mode = c.mode;
    if (mode === 'iptables') iptablesOptionsFromConfig(c, family, FACTS);
    if (mode === 'nftables') nftablesOptionsFromConfig(c, family, FACTS);
    if (mode === 'ipvs') ipvsOptionsFromConfig(c, family, FACTS);
    if (mode === 'userspace') userspaceOptionsFromConfig(c, family, c.userspaceBindOnly, FACTS);
  }
}

/** Configurations that exercise every mode and local-detection mode. */
const VARIANTS: Record<string, unknown>[] = [
  { mode: 'iptables', clusterCIDR: '10.244.0.0/16,fd00:244::/56', detectLocalMode: 'ClusterCIDR' },
  { mode: 'nftables', detectLocalMode: 'NodeCIDR', nodePortAddresses: ['10.0.0.0/8'] },
  { mode: 'ipvs', detectLocalMode: 'BridgeInterface', detectLocal: { bridgeInterface: 'cbr0' } },
  { mode: 'iptables', detectLocalMode: 'InterfaceNamePrefix', detectLocal: { interfaceNamePrefix: 'veth' } },
  { mode: 'userspace', portRange: '30000-30100' },
];

/**
 * For fields met only by a check: a value each one cannot honour. A new check-only field
 * without a sample here fails the test.
 */
const UNSUPPORTED_SAMPLES: Record<string, unknown> = {
  featureGates: { EventedPLEG: true },
  'clientConnection.acceptContentTypes': 'application/vnd.kubernetes.protobuf',
  'clientConnection.contentType': 'application/yaml',
  'logging.flushFrequency': '1s',
  'logging.vmodule': [{ filePattern: 'proxier*', verbosity: 5 }],
  'logging.options.text.infoBufferSize': '64Ki',
  'logging.options.json.infoBufferSize': '64Ki',
  showHiddenMetricsForVersion: '1.20',
  'winkernel.networkName': 'vxlan0',
  'winkernel.sourceVip': '10.0.0.9',
  'winkernel.enableDSR': true,
  'winkernel.rootHnsEndpointName': 'cbr0',
  'winkernel.forwardHealthCheckVip': true,
  configSyncPeriod: '1m0s',
  portRange: '30000-30100',
  windowsRunAsService: true,
};

function withValue(path: string, value: unknown): Record<string, unknown> {
  const keys = path.split('.');
  const root: Record<string, unknown> = {};
  let cur = root;
  for (const k of keys.slice(0, -1)) {
    cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys.at(-1)!] = value;
  return root;
}

const CTX = { kubernetesVersion: 'v1.36.3' };

describe('every KubeProxyConfiguration field is read or refused', () => {
  it('the schema has the fields of kubeproxy.config.k8s.io/v1alpha1 (and ours)', () => {
    expect(LEAVES.length).toBeGreaterThan(60);
    expect(LEAVES).toContain('logging.options.json.infoBufferSize');
    expect(LEAVES).toContain('winkernel.enableDSR');
    expect(LEAVES).toContain('conntrack.udpStreamTimeout');
    // v1.31+ (kubernetes#126072); a Linux proxy must still accept it.
    expect(LEAVES).toContain('windowsRunAsService');
  });

  it('each field has an effect or a check, and nothing else is listed', () => {
    const missing = LEAVES.filter((f) => !SETTING_SUPPORT[f]);
    expect(missing).toEqual([]);
    expect(Object.keys(SETTING_SUPPORT).filter((f) => !LEAVES.includes(f))).toEqual([]);
    const neither = Object.entries(SETTING_SUPPORT).filter(([, s]) => !s.effect && !s.check);
    expect(neither).toEqual([]);
  });

  it('each field listed with an effect is read by the code that builds the daemon', () => {
    const reads = new Set<string>();
    for (const v of VARIANTS) {
      runConsumers(recording(applyPlatformDefaults(parseKubeProxyConfiguration(v)), reads));
    }
    const effectFields = Object.entries(SETTING_SUPPORT)
      .filter(([, s]) => s.effect)
      .map(([f]) => f)
      // apiVersion and kind take effect in the schema itself (a wrong one does not parse).
      .filter((f) => f !== 'apiVersion' && f !== 'kind');
    expect(effectFields.filter((f) => !reads.has(f))).toEqual([]);
    expect(() => parseKubeProxyConfiguration({ apiVersion: 'kubeproxy.config.k8s.io/v1beta9' })).toThrow(
      /apiVersion/,
    );
    expect(() => parseKubeProxyConfiguration({ kind: 'KubeletConfiguration' })).toThrow(/kind/);
  });

  it('each field met by a check names itself for a value it cannot honour, and is quiet at the defaults', () => {
    const defaults = applyPlatformDefaults(parseKubeProxyConfiguration({}));
    // Protobuf, upstream's default content type, is honoured: no problem whoever chose it.
    expect(checkSettingSupport(defaults, { kubernetesVersion: 'v1.36.3' })).toEqual([]);
    expect(checkSettingSupport(defaults, CTX)).toEqual([]);
    const checkOnly = Object.entries(SETTING_SUPPORT)
      .filter(([, s]) => s.check && !s.effect)
      .map(([f]) => f);
    expect(checkOnly.filter((f) => !(f in UNSUPPORTED_SAMPLES))).toEqual([]);
    for (const [field, value] of Object.entries(UNSUPPORTED_SAMPLES)) {
      const c = applyPlatformDefaults(parseKubeProxyConfiguration(withValue(field, value)));
      const problems = checkSettingSupport(c, CTX).filter((p) => p.field === field);
      expect(problems, field).toHaveLength(1);
      expect(problems[0]!.value).toEqual(value);
    }
  });

  it('refused settings stop the start naming each field; warned ones are logged once each', () => {
    const lines: string[] = [];
    const log = daemonLogger(parseKubeProxyConfiguration({}), (l) => lines.push(l));
    const refused = applyPlatformDefaults(
      parseKubeProxyConfiguration({
        clientConnection: { contentType: 'application/yaml' },
        showHiddenMetricsForVersion: '1.2',
      }),
    );
    expect(() => checkSettings(refused, log)).toThrow(
      /clientConnection\.contentType: "application\/yaml": unsupported content type.*showHiddenMetricsForVersion: "1\.2": --show-hidden-metrics-for-version must be omitted or have the value '1\.35'/,
    );
    // --vmodule is upstream's; a drop-in starts with it and says it has no effect.
    const vmodule = applyPlatformDefaults(
      parseKubeProxyConfiguration({ logging: { vmodule: [{ filePattern: 'x', verbosity: 2 }] } }),
    );
    expect(checkSettings(vmodule, log).map((p) => [p.field, p.severity])).toEqual([
      ['logging.vmodule', 'warn'],
    ]);
    lines.length = 0;
    const warned = applyPlatformDefaults(
      parseKubeProxyConfiguration({ featureGates: { EventedPLEG: true } }),
    );
    checkSettings(warned, log);
    expect(lines.filter((l) => l.includes('featureGates'))).toHaveLength(1);
    // Protobuf is honoured (Services and EndpointSlices): no warning.
    checkSettings(warned, log);
    expect(lines.filter((l) => l.includes('clientConnection.contentType'))).toHaveLength(0);
    // An Accept header without JSON is honoured for the lists, with a warning about the Node.
    const protobufOnly = applyPlatformDefaults(
      parseKubeProxyConfiguration({
        clientConnection: { acceptContentTypes: 'application/vnd.kubernetes.protobuf' },
      }),
    );
    expect(checkSettings(protobufOnly, log).map((p) => [p.field, p.severity])).toEqual([
      ['clientConnection.acceptContentTypes', 'warn'],
    ]);
    expect(lines.every((l) => l.startsWith('W'))).toBe(true);
    // The previous minor version is accepted.
    const ok = applyPlatformDefaults(parseKubeProxyConfiguration({ showHiddenMetricsForVersion: '1.35' }));
    expect(checkSettingSupport(ok, CTX)).toEqual([]);
  });
});
