import { formatDuration, parseDuration } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { PROXY_MODES } from '../src/config/index';
import {
  defaultKubeProxyConfiguration,
  InvalidConfigurationError,
  type InvalidFieldError,
  loadKubeProxyConfiguration,
  parseKubeProxyConfiguration,
} from '../src/index';

function errorsOf(fn: () => unknown): InvalidFieldError[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidConfigurationError);
    return [...(err as InvalidConfigurationError).errors];
  }
  throw new Error('expected a validation error');
}

describe('KubeProxyConfiguration defaults', () => {
  it('matches upstream v1alpha1 defaults', () => {
    const c = defaultKubeProxyConfiguration();
    expect(c.apiVersion).toBe('kubeproxy.config.k8s.io/v1alpha1');
    expect(c.bindAddress).toBe('0.0.0.0');
    expect(c.healthzBindAddress).toBe('0.0.0.0:10256');
    expect(c.metricsBindAddress).toBe('127.0.0.1:10249');
    expect(c.iptables).toEqual({
      masqueradeBit: 14,
      masqueradeAll: false,
      localhostNodePorts: true,
      syncPeriod: '30s',
      minSyncPeriod: '1s',
    });
    expect(c.nftables.masqueradeBit).toBe(14);
    expect(c.conntrack.maxPerCore).toBe(32768);
    expect(c.conntrack.min).toBe(131072);
    expect(c.configSyncPeriod).toBe('15m0s');
    expect(c.oomScoreAdj).toBe(-999);
    expect(c.mode).toBe('');
  });

  it('defaults zero, empty and null fields as upstream decoding does (kubeadm writes them all)', () => {
    const c = parseKubeProxyConfiguration({
      bindAddress: '',
      healthzBindAddress: '',
      metricsBindAddress: '10.0.0.1',
      oomScoreAdj: null,
      configSyncPeriod: '0s',
      clientConnection: { qps: 0, burst: 0, contentType: '', acceptContentTypes: '', kubeconfig: '' },
      conntrack: { maxPerCore: null, min: null, tcpEstablishedTimeout: null, tcpCloseWaitTimeout: null },
      iptables: { syncPeriod: '0s', minSyncPeriod: '0s', masqueradeBit: null, localhostNodePorts: null },
      nftables: { syncPeriod: '0s', minSyncPeriod: '0ms', masqueradeBit: null },
      ipvs: { syncPeriod: '0s', minSyncPeriod: '0s' },
      featureGates: null,
      logging: { flushFrequency: 0, verbosity: 0 },
    });
    expect(c).toMatchObject({
      bindAddress: '0.0.0.0',
      healthzBindAddress: '0.0.0.0:10256',
      metricsBindAddress: '10.0.0.1:10249',
      oomScoreAdj: -999,
      configSyncPeriod: '15m0s',
      clientConnection: { qps: 5, burst: 10, contentType: 'application/vnd.kubernetes.protobuf' },
      conntrack: {
        maxPerCore: 32768,
        min: 131072,
        tcpEstablishedTimeout: '24h0m0s',
        tcpCloseWaitTimeout: '1h0m0s',
      },
      iptables: { syncPeriod: '30s', minSyncPeriod: '1s', masqueradeBit: 14, localhostNodePorts: true },
      nftables: { syncPeriod: '30s', minSyncPeriod: '1s', masqueradeBit: 14 },
      ipvs: { syncPeriod: '30s', minSyncPeriod: '0s' },
      featureGates: {},
      logging: { flushFrequency: '5s', format: 'text', verbosity: 0 },
    });
    // Explicit values, including a zero conntrack limit (leave the kernel's), stay.
    const kept = parseKubeProxyConfiguration({ conntrack: { maxPerCore: 0 }, oomScoreAdj: 0 });
    expect(kept.conntrack.maxPerCore).toBe(0);
    expect(kept.oomScoreAdj).toBe(0);
  });

  it('fills nested defaults around fields given in a file', () => {
    const c = loadKubeProxyConfiguration(
      'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\niptables:\n  masqueradeAll: true\nclusterCIDR: 10.244.0.0/16,fd00::/48\n',
    );
    expect(c.mode).toBe('nftables');
    expect(c.iptables.masqueradeAll).toBe(true);
    expect(c.iptables.masqueradeBit).toBe(14);
    expect(c.clusterCIDR).toBe('10.244.0.0/16,fd00::/48');
  });
});

describe('KubeProxyConfiguration validation', () => {
  it('names the field and value of every bad semantic field', () => {
    const errs = errorsOf(() =>
      parseKubeProxyConfiguration({
        mode: 'kernelspace',
        bindAddress: 'not-an-ip',
        iptables: { masqueradeBit: 32, syncPeriod: '-1s' },
        healthzBindAddress: '0.0.0.0:99999',
        clientConnection: { burst: -1 },
      }),
    );
    const byField = new Map(errs.map((e) => [e.field, e]));
    expect(byField.get('clientConnection.burst')?.reason).toBe('must be greater than or equal to 0');
    expect(byField.get('mode')?.value).toBe('kernelspace');
    expect(byField.get('bindAddress')?.value).toBe('not-an-ip');
    expect(byField.get('iptables.masqueradeBit')?.value).toBe(32);
    expect(byField.get('iptables.syncPeriod')?.value).toBe('-1s');
    expect(byField.get('iptables.syncPeriod')?.reason).toBe('must be greater than 0');
    expect(byField.get('healthzBindAddress')?.value).toBe('0.0.0.0:99999');
    expect(errs.every((e) => e.code === 'INVALID_FIELD')).toBe(true);
  });

  it('accepts mode userspace with userspaceBindOnly (our extension, default false)', () => {
    expect(PROXY_MODES).toContain('userspace');
    expect(defaultKubeProxyConfiguration().userspaceBindOnly).toBe(false);
    const c = parseKubeProxyConfiguration({ mode: 'userspace', userspaceBindOnly: true });
    expect(c.mode).toBe('userspace');
    expect(c.userspaceBindOnly).toBe(true);
    const errs = errorsOf(() => parseKubeProxyConfiguration({ userspaceBindOnly: 'yes' }));
    expect(errs.map((e) => e.field)).toEqual(['userspaceBindOnly']);
  });

  it('rejects unknown fields and wrong types by path', () => {
    const unknown = errorsOf(() => parseKubeProxyConfiguration({ iptables: { masqueradeBits: 3 } }));
    expect(unknown[0]?.field).toBe('iptables.masqueradeBits');
    const typed = errorsOf(() => parseKubeProxyConfiguration({ conntrack: { maxPerCore: 'lots' } }));
    expect(typed[0]?.field).toBe('conntrack.maxPerCore');
    expect(typed[0]?.value).toBe('lots');
  });

  it('checks durations, CIDRs, detect-local and ipvs fields', () => {
    const errs = errorsOf(() =>
      parseKubeProxyConfiguration({
        iptables: { minSyncPeriod: 'soon' },
        clusterCIDR: '10.0.0.0/8,10.1.0.0/16',
        nodePortAddresses: ['192.168.0.0/33'],
        detectLocalMode: 'BridgeInterface',
        ipvs: { scheduler: 'fastest' },
      }),
    );
    const fields = errs.map((e) => e.field).sort();
    expect(fields).toEqual(
      [
        'clusterCIDR',
        'detectLocal.bridgeInterface',
        'iptables.minSyncPeriod',
        'ipvs.scheduler',
        'nodePortAddresses[0]',
      ].sort(),
    );
  });

  it('reports non-YAML files as a field error', () => {
    const errs = errorsOf(() => loadKubeProxyConfiguration('mode: [unclosed'));
    expect(errs[0]?.field).toBe('(file)');
  });
});

describe('Go durations', () => {
  it.each([
    ['1s', 1000],
    ['30s', 30000],
    ['1m30s', 90000],
    ['15m0s', 900000],
    ['24h0m0s', 86400000],
    ['500ms', 500],
    ['1.5h', 5400000],
    ['0', 0],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text, 'f')).toBe(ms);
  });

  it('round-trips through formatDuration', () => {
    for (const ms of [0, 250, 1000, 61000, 3600000, 86400000 + 1000]) {
      expect(parseDuration(formatDuration(ms), 'f')).toBe(ms);
    }
    expect(formatDuration(900000)).toBe('15m0s');
  });

  it('rejects garbage with the field name', () => {
    expect(() => parseDuration('5 minutes', 'iptables.syncPeriod')).toThrowError(/iptables.syncPeriod/);
  });
});
