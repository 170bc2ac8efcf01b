import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { KUBELET_FLAGS, kubeletFlagSpec } from '../src/kubelet-flag-table';
import { kubeletHelpText, resolveKubeletOptions } from '../src/kubelet-flags';

// The recorded `--help` of upstream kubelet v1.36.3 (fidelity/cli-v1.36 in the repository, never edited):
// every flag it lists must parse here with its type and default, and land in the
// KubeletConfiguration field upstream's cmd/kubelet/app/options/options.go binds it to.

const tsvPath = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'fidelity',
  'cli-v1.36',
  'kubelet.flags.upstream.tsv',
);

interface UpstreamFlag {
  name: string;
  short: string;
  type: string;
  default: string;
  deprecated: boolean;
}

const UPSTREAM: UpstreamFlag[] = readFileSync(tsvPath, 'utf8')
  .split('\n')
  .slice(1)
  .filter((line) => line.trim() !== '')
  .map((line) => {
    const [name, short, type, def, deprecated] = line.split('\t');
    return {
      name: name!.slice(2),
      short: short ?? '',
      type: type ?? '',
      default: def ?? '',
      deprecated: deprecated === 'yes',
    };
  });

/**
 * AddKubeletConfigFlags' bindings (KubeletConfiguration v1beta1 paths), plus logsapi.AddFlags'
 * (logging.*), written from upstream's source, not from our table.
 */
const UPSTREAM_FIELDS: Record<string, string> = {
  address: 'address',
  'allowed-unsafe-sysctls': 'allowedUnsafeSysctls',
  'anonymous-auth': 'authentication.anonymous.enabled',
  'authentication-token-webhook': 'authentication.webhook.enabled',
  'authentication-token-webhook-cache-ttl': 'authentication.webhook.cacheTTL',
  'authorization-mode': 'authorization.mode',
  'authorization-webhook-cache-authorized-ttl': 'authorization.webhook.cacheAuthorizedTTL',
  'authorization-webhook-cache-unauthorized-ttl': 'authorization.webhook.cacheUnauthorizedTTL',
  'cgroup-driver': 'cgroupDriver',
  'cgroup-root': 'cgroupRoot',
  'cgroups-per-qos': 'cgroupsPerQOS',
  'client-ca-file': 'authentication.x509.clientCAFile',
  'cluster-dns': 'clusterDNS',
  'cluster-domain': 'clusterDomain',
  'container-log-max-files': 'containerLogMaxFiles',
  'container-log-max-size': 'containerLogMaxSize',
  'container-runtime-endpoint': 'containerRuntimeEndpoint',
  'contention-profiling': 'enableContentionProfiling',
  'cpu-cfs-quota': 'cpuCFSQuota',
  'cpu-cfs-quota-period': 'cpuCFSQuotaPeriod',
  'cpu-manager-policy': 'cpuManagerPolicy',
  'cpu-manager-policy-options': 'cpuManagerPolicyOptions',
  'cpu-manager-reconcile-period': 'cpuManagerReconcilePeriod',
  'enable-controller-attach-detach': 'enableControllerAttachDetach',
  'enable-debugging-handlers': 'enableDebuggingHandlers',
  'enable-server': 'enableServer',
  'enforce-node-allocatable': 'enforceNodeAllocatable',
  'event-burst': 'eventBurst',
  'event-qps': 'eventRecordQPS',
  'eviction-hard': 'evictionHard',
  'eviction-max-pod-grace-period': 'evictionMaxPodGracePeriod',
  'eviction-minimum-reclaim': 'evictionMinimumReclaim',
  'eviction-pressure-transition-period': 'evictionPressureTransitionPeriod',
  'eviction-soft': 'evictionSoft',
  'eviction-soft-grace-period': 'evictionSoftGracePeriod',
  'fail-cgroupv1': 'failCgroupV1',
  'fail-swap-on': 'failSwapOn',
  'feature-gates': 'featureGates',
  'file-check-frequency': 'fileCheckFrequency',
  'hairpin-mode': 'hairpinMode',
  'healthz-bind-address': 'healthzBindAddress',
  'healthz-port': 'healthzPort',
  'http-check-frequency': 'httpCheckFrequency',
  'image-gc-high-threshold': 'imageGCHighThresholdPercent',
  'image-gc-low-threshold': 'imageGCLowThresholdPercent',
  'image-service-endpoint': 'imageServiceEndpoint',
  'kernel-memcg-notification': 'kernelMemcgNotification',
  'kube-api-burst': 'kubeAPIBurst',
  'kube-api-content-type': 'contentType',
  'kube-api-qps': 'kubeAPIQPS',
  'kube-reserved': 'kubeReserved',
  'kube-reserved-cgroup': 'kubeReservedCgroup',
  'kubelet-cgroups': 'kubeletCgroups',
  'local-storage-capacity-isolation': 'localStorageCapacityIsolation',
  'log-flush-frequency': 'logging.flushFrequency',
  'log-json-info-buffer-size': 'logging.options.json.infoBufferSize',
  'log-json-split-stream': 'logging.options.json.splitStream',
  'log-text-info-buffer-size': 'logging.options.text.infoBufferSize',
  'log-text-split-stream': 'logging.options.text.splitStream',
  'logging-format': 'logging.format',
  'make-iptables-util-chains': 'makeIPTablesUtilChains',
  'manifest-url': 'staticPodURL',
  'manifest-url-header': 'staticPodURLHeader',
  'max-open-files': 'maxOpenFiles',
  'max-pods': 'maxPods',
  'memory-manager-policy': 'memoryManagerPolicy',
  'minimum-image-ttl-duration': 'imageMinimumGCAge',
  'node-status-max-images': 'nodeStatusMaxImages',
  'node-status-update-frequency': 'nodeStatusUpdateFrequency',
  'oom-score-adj': 'oomScoreAdj',
  'pod-cidr': 'podCIDR',
  'pod-manifest-path': 'staticPodPath',
  'pod-max-pids': 'podPidsLimit',
  'pods-per-core': 'podsPerCore',
  port: 'port',
  'protect-kernel-defaults': 'protectKernelDefaults',
  'provider-id': 'providerID',
  'qos-reserved': 'qosReserved',
  'read-only-port': 'readOnlyPort',
  'register-node': 'registerNode',
  'register-with-taints': 'registerWithTaints',
  'registry-burst': 'registryBurst',
  'registry-qps': 'registryPullQPS',
  'reserved-cpus': 'reservedSystemCPUs',
  'reserved-memory': 'reservedMemory',
  'resolv-conf': 'resolvConf',
  'rotate-certificates': 'rotateCertificates',
  'rotate-server-certificates': 'serverTLSBootstrap',
  runonce: 'runOnce',
  'runtime-request-timeout': 'runtimeRequestTimeout',
  'seccomp-default': 'seccompDefault',
  'serialize-image-pulls': 'serializeImagePulls',
  'streaming-connection-idle-timeout': 'streamingConnectionIdleTimeout',
  'sync-frequency': 'syncFrequency',
  'system-cgroups': 'systemCgroups',
  'system-reserved': 'systemReserved',
  'system-reserved-cgroup': 'systemReservedCgroup',
  'tls-cert-file': 'tlsCertFile',
  'tls-cipher-suites': 'tlsCipherSuites',
  'tls-min-version': 'tlsMinVersion',
  'tls-private-key-file': 'tlsPrivateKeyFile',
  'topology-manager-policy': 'topologyManagerPolicy',
  'topology-manager-policy-options': 'topologyManagerPolicyOptions',
  'topology-manager-scope': 'topologyManagerScope',
  v: 'logging.verbosity',
  vmodule: 'logging.vmodule',
  'volume-plugin-dir': 'volumePluginDir',
  'volume-stats-agg-period': 'volumeStatsAggPeriod',
};

/** KubeletFlags (not configuration) that this kubelet keeps, and where. */
const FLAG_SETTINGS: Record<string, [arg: string, key: string, value: unknown, extra?: string[]]> = {
  'bootstrap-kubeconfig': ['/b.conf', 'bootstrapKubeconfig', '/b.conf', ['--kubeconfig=/k.conf']],
  'image-credential-provider-config': ['/etc/cp.yaml', 'imageCredentialProviderConfig', '/etc/cp.yaml'],
  'image-credential-provider-bin-dir': [
    '/usr/libexec/cp',
    'imageCredentialProviderBinDir',
    '/usr/libexec/cp',
  ],
  config: ['', 'config', undefined],
  'config-dir': ['', 'configDir', undefined],
  kubeconfig: ['/etc/kubernetes/kubelet.conf', 'kubeconfig', '/etc/kubernetes/kubelet.conf'],
  'cert-dir': ['/tmp/pki', 'certDir', '/tmp/pki'],
  'cloud-provider': ['external', 'cloudProvider', 'external'],
  'hostname-override': ['node-a', 'hostnameOverride', 'node-a'],
  'node-ip': ['10.0.0.5,fd00::5', 'nodeIP', ['10.0.0.5', 'fd00::5']],
  'node-labels': ['a=b,c=d', 'nodeLabels', { a: 'b', c: 'd' }],
  'root-dir': ['/tmp/kubelet-root', 'rootDir', '/tmp/kubelet-root'],
};

/** A valid value of each configuration flag and what its field holds then (default: by type). */
const SAMPLES: Record<string, [arg: string, expected: unknown, extra?: string[]]> = {
  address: ['10.0.0.1', '10.0.0.1'],
  'healthz-bind-address': ['127.0.0.2', '127.0.0.2'],
  'authorization-mode': ['Webhook', 'Webhook'],
  'cgroup-driver': ['systemd', 'systemd'],
  'cgroup-root': ['/custom', '/custom'],
  'hairpin-mode': ['hairpin-veth', 'hairpin-veth'],
  'logging-format': ['json', 'json'],
  'memory-manager-policy': ['Static', 'Static'],
  'topology-manager-policy': ['best-effort', 'best-effort'],
  'topology-manager-scope': ['pod', 'pod'],
  'tls-min-version': ['VersionTLS12', 'VersionTLS12'],
  'container-log-max-size': ['20Mi', '20Mi'],
  'cpu-cfs-quota-period': ['50ms', '50ms'],
  'oom-score-adj': ['-500', -500],
  'image-gc-high-threshold': ['90', 90],
  'image-gc-low-threshold': ['70', 70],
  'container-log-max-files': ['3', 3],
  port: ['10251', 10251],
  'cluster-dns': ['10.0.0.10,10.0.0.11', ['10.0.0.10', '10.0.0.11']],
  'enforce-node-allocatable': ['none', ['none']],
  'tls-cipher-suites': ['TLS_AES_128_GCM_SHA256', ['TLS_AES_128_GCM_SHA256']],
  'eviction-hard': ['memory.available<1Gi', { 'memory.available': '1Gi' }],
  'eviction-soft': [
    'memory.available<2Gi',
    { 'memory.available': '2Gi' },
    ['--eviction-soft-grace-period=memory.available=1m'],
  ],
  'eviction-soft-grace-period': ['memory.available=1m30s', { 'memory.available': '1m30s' }],
  'eviction-minimum-reclaim': ['memory.available=100Mi', { 'memory.available': '100Mi' }],
  'qos-reserved': ['memory=50%', { memory: '50%' }],
  'cpu-manager-policy-options': ['full-pcpus-only=true', { 'full-pcpus-only': 'true' }],
  'topology-manager-policy-options': [
    'prefer-closest-numa-nodes=true',
    { 'prefer-closest-numa-nodes': 'true' },
  ],
  'kube-reserved': ['cpu=100m,memory=100Mi', { cpu: '100m', memory: '100Mi' }],
  'system-reserved': ['cpu=200m', { cpu: '200m' }],
  'feature-gates': [
    'EventedPLEG=true,ContainerCheckpoint=false',
    { EventedPLEG: true, ContainerCheckpoint: false },
  ],
  'manifest-url-header': ['a:hello,b:again,a:world', { a: ['hello', 'world'], b: ['again'] }],
  'register-with-taints': ['k=v:NoSchedule', [{ key: 'k', value: 'v', effect: 'NoSchedule' }]],
  'reserved-memory': ['0:memory=1Gi', [{ numaNode: 0, limits: { memory: '1Gi' } }]],
  // A CPU list, as upstream's validation parses it (cpuset.Parse).
  'reserved-cpus': ['0-1', '0-1'],
  vmodule: ['foo=2', [{ filePattern: 'foo', verbosity: 2 }]],
  'seccomp-default': ['true', true],
  // Upstream refuses node allocatable enforcement without the QoS cgroups, and systemCgroups
  // without cgroupRoot.
  'cgroups-per-qos': ['false', false, ['--enforce-node-allocatable=']],
  'system-cgroups': ['/system', '/system', ['--cgroup-root=/custom']],
  // Upstream's validation refuses runOnce: true.
  runonce: ['false', false],
};

function getPath(object: unknown, path: string): unknown {
  let at = object;
  for (const key of path.split('.')) at = (at as Record<string, unknown> | undefined)?.[key];
  return at;
}

/** A generic valid value of a pflag type, and the value it decodes to. */
function sampleOf(type: string, def: string): [string, unknown] {
  switch (type) {
    case 'bool':
      return def === 'true' ? ['false', false] : ['true', true];
    case 'int':
    case 'int32':
    case 'Level':
      return ['7', 7];
    case 'duration':
      return ['7s', '7s'];
    case 'quantity':
      return ['1Mi', '1Mi'];
    case 'strings':
      return ['net.core.somaxconn,kernel.msg*', ['net.core.somaxconn', 'kernel.msg*']];
    case 'ip':
      return ['10.0.0.9', '10.0.0.9'];
    default:
      return ['/tmp/somewhere', '/tmp/somewhere'];
  }
}

/** What `--help`'s printed default means as a configuration value. */
function defaultValueOf(type: string, def: string): unknown {
  const unquoted = def.startsWith('"') ? def.slice(1, -1) : def;
  switch (type) {
    case 'bool':
    case 'RuntimeDefault':
      return def === 'true';
    case 'int':
    case 'int32':
    case 'Level':
      return def === '' ? 0 : Number(def);
    case 'strings':
      return def === '' ? [] : def.slice(1, -1).split(',');
    case 'mapStringString':
    case 'mapStringBool':
    case 'colonSeparatedMultimapStringString':
      return {};
    case '[]v1.Taint':
    case 'reserved-memory':
    case 'pattern=N,...':
      return [];
    default:
      return unquoted;
  }
}

/**
 * Where our configuration's default differs from what upstream's `--help` prints, and why (each
 * is upstream's own behaviour, not ours).
 */
const DEFAULT_EXCEPTIONS: Record<string, string> = {
  // pflag prints the flag's zero value; v1beta1 defaulting fills upstream's thresholds in.
  'eviction-hard': 'v1beta1 SetDefaults fills evictionHard when the flag is not given',
  // A nil quantity prints nothing; component-base defaults it to 0.
  'log-json-info-buffer-size': 'component-base default 0',
  'log-text-info-buffer-size': 'component-base default 0',
};

const ourConfigFlags = KUBELET_FLAGS.filter((spec) => spec.field !== undefined && !spec.extension);

describe('kubelet flags against the recorded upstream v1.36.3 --help', () => {
  it('has exactly upstream flags (plus our documented extensions)', () => {
    const ours = KUBELET_FLAGS.filter((spec) => !spec.extension).map((spec) => spec.flag);
    expect([...ours].sort()).toEqual(UPSTREAM.map((flag) => flag.name).sort());
    expect(UPSTREAM).toHaveLength(150);
  });

  it('binds the same configuration fields as options.go', () => {
    const ours = Object.fromEntries(ourConfigFlags.map((spec) => [spec.flag, spec.field]));
    expect(ours).toEqual(UPSTREAM_FIELDS);
  });

  const help = kubeletHelpText();
  for (const upstream of UPSTREAM) {
    it(`--${upstream.name}: ${upstream.type}, default ${upstream.default || '(none)'}`, async () => {
      const spec = kubeletFlagSpec(upstream.name)!;
      expect(spec.flag).toBe(upstream.name);
      expect(spec.short ?? '').toBe(upstream.short);
      expect(spec.type).toBe(upstream.type);
      expect(spec.default).toBe(upstream.default);
      expect(Boolean(spec.deprecated)).toBe(upstream.deprecated);
      // --help shows it with its type and default.
      const line = help.split('\n').find((l) => new RegExp(`^\\s+(-\\w, )?--${upstream.name}( |$)`).test(l));
      expect(line, `--help line of --${upstream.name}`).toBeDefined();
      if (upstream.type !== 'bool') expect(line).toContain(`--${upstream.name} ${upstream.type}`);
      if (upstream.default !== '') expect(line).toContain(`(default ${upstream.default})`);
      if (upstream.name === 'help' || upstream.name === 'version') return;

      const field = UPSTREAM_FIELDS[upstream.name];
      const setting = FLAG_SETTINGS[upstream.name];
      const defaults = await resolveKubeletOptions([]);
      if (field !== undefined) {
        // The default without --config is the one upstream's --help prints.
        if (!(upstream.name in DEFAULT_EXCEPTIONS)) {
          const expected = defaultValueOf(upstream.type, upstream.default);
          const actual = getPath(defaults.config, field);
          if (upstream.type === 'duration' && expected !== '')
            expect(parseDuration(String(actual)), field).toBe(parseDuration(String(expected)));
          else if (upstream.type === 'bool') expect(Boolean(actual), field).toBe(expected);
          else if (upstream.type === 'quantity' || (upstream.type === 'duration' && expected === ''))
            expect([undefined, '', '0', 0, '0s']).toContain(actual);
          else expect(actual, field).toEqual(expected);
        }
        // A value of its type lands in upstream's field.
        const [arg, expected, extra] = SAMPLES[upstream.name] ?? sampleOf(upstream.type, upstream.default);
        const withFlag = await resolveKubeletOptions([`--${upstream.name}=${arg}`, ...(extra ?? [])]);
        expect(getPath(withFlag.config, field), field).toEqual(expected);
        expect(withFlag.deprecations.length > 0).toBe(upstream.deprecated);
      } else if (setting !== undefined) {
        const [arg, key, value, extra] = setting;
        if (arg === '') return;
        const withFlag = await resolveKubeletOptions([`--${upstream.name}=${arg}`, ...(extra ?? [])]);
        expect(withFlag.flags[key as keyof typeof withFlag.flags]).toEqual(value);
        expect(withFlag.config).toEqual(defaults.config);
      } else {
        // Accepted, warned about by name as having no effect here, configuration untouched.
        const [arg] = sampleOf(upstream.type, upstream.default);
        const withFlag = await resolveKubeletOptions([`--${upstream.name}=${arg}`]);
        expect(withFlag.noEffectFlags.map((flag) => flag.flag)).toEqual([`--${upstream.name}`]);
        expect(withFlag.config).toEqual(defaults.config);
        if (upstream.deprecated)
          expect(withFlag.deprecations).toEqual([
            expect.stringMatching(new RegExp(`^Flag --${upstream.name} has been deprecated, `)),
          ]);
      }
    });
  }

  it('takes pflag value syntaxes: bare bools, repeated lists and maps, -v shorthand, _ for -', async () => {
    const { config, flags } = await resolveKubeletOptions([
      '--fail-swap-on',
      '--cgroups-per-qos=false',
      '--cluster-dns=10.0.0.1',
      '--cluster-dns',
      '10.0.0.2',
      '--kube-reserved=cpu=1',
      '--kube-reserved=memory=1Gi',
      '-v=3',
      '--max_pods=42',
      '--enforce-node-allocatable=',
    ]);
    expect(config.failSwapOn).toBe(true);
    expect(config.cgroupsPerQOS).toBe(false);
    expect(config.clusterDNS).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(config.kubeReserved).toEqual({ cpu: '1', memory: '1Gi' });
    expect(flags.v).toBe(3);
    expect(config.logging.verbosity).toBe(3);
    expect(config.maxPods).toBe(42);
  });
});
