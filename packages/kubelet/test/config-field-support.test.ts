import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kubeletConfigurationFieldSupport, unsupportedFieldWarnings } from '../src/config/field-support';
import { defaultKubeletConfiguration, parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { kubeletConfigurationSchema } from '../src/config/kubelet-configuration-schema';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

/** Every .ts source file under dir, tests and the config folder itself left out. */
function sources(dir: string): string[] {
  return readdirSync(join(repo, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !path.includes('/src/config/'));
}

/** Where the kubelet's configuration is consumed: the library, the binary, node status. */
const consumerText = [
  ...sources('packages/kubelet/src'),
  ...sources('apps/kubelet/src'),
  ...sources('packages/node-status/src'),
]
  .map((path) => readFileSync(path, 'utf8'))
  .join('\n');

/** Fields whose whole effect is in the configuration code itself (decoding, defaulting, validation). */
const appliedInConfig = new Set(['apiVersion', 'kind', 'mergeDefaultEvictionSettings', 'runOnce']);

describe('KubeletConfiguration field support', () => {
  const fields = Object.keys(kubeletConfigurationSchema.shape);

  it('covers every top-level v1beta1 field of the schema, and nothing else', () => {
    expect(fields.length).toBeGreaterThanOrEqual(120);
    expect(Object.keys(kubeletConfigurationFieldSupport).sort()).toEqual([...fields].sort());
  });

  it('has every field either read where the kubelet runs, or listed as unsupported', () => {
    const neither: string[] = [];
    for (const field of fields) {
      const support =
        kubeletConfigurationFieldSupport[field as keyof typeof kubeletConfigurationFieldSupport];
      if (support.status === 'unsupported' || support.status === 'no-effect-upstream') continue;
      if (support.status === 'applied' && appliedInConfig.has(field)) continue;
      // Applied, or the TLS bootstrap work's: the field is read outside the config folder.
      const read = new RegExp(`\\.${field}\\b|\\b${field}:`).test(consumerText);
      if (!read) neither.push(field);
    }
    expect(neither).toEqual([]);
  });

  it('warns about no field at upstream defaults', () => {
    expect(unsupportedFieldWarnings(defaultKubeletConfiguration())).toEqual([]);
  });

  it('names each unsupported field set away from its default in exactly one warning', () => {
    const config = {
      ...defaultKubeletConfiguration(),
      kernelMemcgNotification: true,
      tracing: { endpoint: 'localhost:4317' },
      // Applied since FlexVolume drivers run: no warning.
      volumePluginDir: '/opt/plugins',
      enforceNodeAllocatable: ['none' as const],
      // Applied fields never warn, whatever their value.
      providerID: 'external://n1',
      readOnlyPort: 10255,
      kubeAPIQPS: 20,
      kubeAPIBurst: 30,
    };
    const warnings = unsupportedFieldWarnings(config);
    expect(warnings.map((w) => w.field).sort()).toEqual(['kernelMemcgNotification', 'tracing']);
    const memcg = warnings.find((w) => w.field === 'kernelMemcgNotification')!;
    expect(memcg.value).toBe(true);
    expect(memcg.message).toBe(
      'KubeletConfiguration field kernelMemcgNotification is not supported by this kubelet and has no effect',
    );
  });

  it('applies the graceful node shutdown fields (nodeshutdown/): no warning for any grace period', () => {
    const config = {
      ...defaultKubeletConfiguration(),
      shutdownGracePeriod: '30s',
      shutdownGracePeriodCriticalPods: '10s',
      shutdownGracePeriodByPodPriority: [{ priority: 0, shutdownGracePeriodSeconds: 20 }],
    };
    expect(unsupportedFieldWarnings(config)).toEqual([]);
    for (const field of [
      'shutdownGracePeriod',
      'shutdownGracePeriodCriticalPods',
      'shutdownGracePeriodByPodPriority',
    ] as const)
      expect(kubeletConfigurationFieldSupport[field].status).toBe('applied');
  });

  it('honours contentType protobuf and JSON (the Service list and watch) and warns for any other media type', () => {
    for (const contentType of ['application/vnd.kubernetes.protobuf', 'application/json'])
      expect(unsupportedFieldWarnings({ ...defaultKubeletConfiguration(), contentType })).toEqual([]);
    expect(
      unsupportedFieldWarnings({ ...defaultKubeletConfiguration(), contentType: 'application/yaml' }).map(
        (w) => w.field,
      ),
    ).toEqual(['contentType']);
  });

  it('applies the CPU manager fields (cpumanager/): no warning for the static policy and its settings', () => {
    const config = {
      ...defaultKubeletConfiguration(),
      cpuManagerPolicy: 'static',
      cpuManagerPolicyOptions: { 'full-pcpus-only': 'true' },
      cpuManagerReconcilePeriod: '5s',
      reservedSystemCPUs: '0',
    };
    expect(unsupportedFieldWarnings(config)).toEqual([]);
    for (const field of [
      'cpuManagerPolicy',
      'cpuManagerPolicyOptions',
      'cpuManagerReconcilePeriod',
      'reservedSystemCPUs',
    ] as const)
      expect(kubeletConfigurationFieldSupport[field].status).toBe('applied');
  });

  it('applies protectKernelDefaults (kernel tunables checked, not written): no warning either way', () => {
    expect(kubeletConfigurationFieldSupport.protectKernelDefaults.status).toBe('applied');
    const base = defaultKubeletConfiguration();
    expect(base.protectKernelDefaults).toBe(false);
    expect(unsupportedFieldWarnings({ ...base, protectKernelDefaults: true })).toEqual([]);
  });

  it('applies systemReservedCgroup and kubeReservedCgroup (enforceNodeAllocatable reserved levels): no warning', () => {
    expect(kubeletConfigurationFieldSupport.systemReservedCgroup.status).toBe('applied');
    expect(kubeletConfigurationFieldSupport.kubeReservedCgroup.status).toBe('applied');
    const config = {
      ...defaultKubeletConfiguration(),
      enforceNodeAllocatable: [
        'pods' as const,
        'system-reserved' as const,
        'kube-reserved-compressible' as const,
      ],
      systemReservedCgroup: '/system.slice',
      kubeReservedCgroup: '/kube.slice',
    };
    expect(unsupportedFieldWarnings(config)).toEqual([]);
  });

  it('applies kubeletCgroups and systemCgroups (the container manager moves processes into them): no warning', () => {
    expect(kubeletConfigurationFieldSupport.kubeletCgroups.status).toBe('applied');
    expect(kubeletConfigurationFieldSupport.systemCgroups.status).toBe('applied');
    const config = {
      ...defaultKubeletConfiguration(),
      kubeletCgroups: '/kubelet.slice',
      systemCgroups: '/system.slice',
      cgroupRoot: '/',
    };
    expect(unsupportedFieldWarnings(config)).toEqual([]);
  });

  it('honours enableSystemLogHandler and enableSystemLogQuery (the node log query is served)', () => {
    const base = defaultKubeletConfiguration();
    expect(unsupportedFieldWarnings({ ...base, enableSystemLogHandler: false })).toEqual([]);
    const query = { ...base, enableSystemLogQuery: true, featureGates: { NodeLogQuery: true } };
    expect(unsupportedFieldWarnings(query)).toEqual([]);
    // Upstream's validation: the query needs the NodeLogQuery gate (GA and locked on in v1.36, so
    // it cannot be turned off) and the handler.
    const typeMeta = { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration' };
    expect(() => parseKubeletConfiguration({ ...typeMeta, enableSystemLogQuery: true })).not.toThrow();
    expect(() =>
      parseKubeletConfiguration({
        ...typeMeta,
        enableSystemLogQuery: true,
        featureGates: { NodeLogQuery: false },
      }),
    ).toThrow('cannot set feature gate NodeLogQuery to false, feature is locked to true');
    expect(() =>
      parseKubeletConfiguration({
        ...typeMeta,
        enableSystemLogQuery: true,
        enableSystemLogHandler: false,
        featureGates: { NodeLogQuery: true },
      }),
    ).toThrow('enableSystemLogQuery: needs enableSystemLogHandler');
  });
});
