/**
 * Every flag of upstream kubelet v1.36 (cmd/kubelet/app/options: KubeletFlags, the flags
 * AddKubeletConfigFlags binds to KubeletConfiguration fields, component-base's logging flags,
 * the cAdvisor flags its binary inherits), with pflag's value type as `--help` prints it, the
 * default `--help` prints, and the field the value lands in. test/flags-upstream.test.ts checks
 * this table against the recorded upstream `--help`.
 */

/** pflag's value type names, as upstream's `--help` prints them. */
export type KubeletFlagType =
  | 'bool'
  | 'string'
  | 'strings'
  | 'ip'
  | 'int'
  | 'int32'
  | 'duration'
  | 'quantity'
  | 'mapStringString'
  | 'mapStringBool'
  | 'colonSeparatedMultimapStringString'
  | '[]v1.Taint'
  | 'reserved-memory'
  | 'RuntimeDefault'
  | 'Level'
  | 'pattern=N,...'
  | 'version[=true]';

export interface KubeletFlagSpec {
  flag: string;
  /** pflag shorthand (`-v`, `-h`). */
  short?: string;
  type: KubeletFlagType;
  /** The default as upstream's `--help` prints it ("" when it prints none). */
  default: string;
  /** Dotted KubeletConfiguration field the flag sets (over --config and --config-dir), if any. */
  field?: string;
  help: string;
  /** pflag's MarkDeprecated message: `Flag --X has been deprecated, <message>` when used. */
  deprecated?: string;
  /** Accepted, but it does nothing in this kubelet: warned about by name when given. */
  noEffect?: string;
  /** Ours, not upstream's. */
  extension?: boolean;
}

/** AddKubeletConfigFlags marks every flag bound to a KubeletConfiguration field with this. */
export const CONFIG_FLAG_DEPRECATION =
  "This parameter should be set via the config file specified by the Kubelet's --config flag. See https://kubernetes.io/docs/tasks/administer-cluster/kubelet-config-file/ for more information.";

const CADVISOR_DEPRECATION =
  'This is a cadvisor flag that was mistakenly registered with the Kubelet. Due to legacy concerns, it will follow the standard CLI deprecation timeline before being removed.';
const CONTAINER_GC_DEPRECATION =
  'Use --eviction-hard or --eviction-soft instead. Will be removed in a future version.';
const CADVISOR_NO_EFFECT = 'a cAdvisor flag: this kubelet has no cAdvisor (stats come from the CRI runtime)';

/** A flag bound to a KubeletConfiguration field: deprecated upstream in favour of the file. */
const config = (
  flag: string,
  type: KubeletFlagType,
  def: string,
  field: string,
  help: string,
): KubeletFlagSpec => ({ flag, type, default: def, field, help, deprecated: CONFIG_FLAG_DEPRECATION });

/** A config-bound flag upstream keeps undeprecated (-v, --vmodule, --log-flush-frequency, --provider-id…). */
const configKept = (
  flag: string,
  type: KubeletFlagType,
  def: string,
  field: string,
  help: string,
): KubeletFlagSpec => ({ flag, type, default: def, field, help });

/** A KubeletFlags setting (not in KubeletConfiguration). */
const flagOnly = (flag: string, type: KubeletFlagType, def: string, help: string): KubeletFlagSpec => ({
  flag,
  type,
  default: def,
  help,
});

const cadvisor = (flag: string, type: KubeletFlagType, def: string, help: string): KubeletFlagSpec => ({
  flag,
  type,
  default: def,
  help,
  deprecated: CADVISOR_DEPRECATION,
  noEffect: CADVISOR_NO_EFFECT,
});

export const KUBELET_FLAGS: readonly KubeletFlagSpec[] = [
  config('address', 'ip', '0.0.0.0', 'address', 'IP address for the kubelet server to serve on'),
  config(
    'allowed-unsafe-sysctls',
    'strings',
    '',
    'allowedUnsafeSysctls',
    'comma-separated unsafe sysctls or patterns (ending in *) pods may set',
  ),
  config(
    'anonymous-auth',
    'bool',
    'true',
    'authentication.anonymous.enabled',
    'allow anonymous requests to the kubelet server',
  ),
  cadvisor('application-metrics-count-limit', 'int', '100', 'max number of application metrics to store'),
  config(
    'authentication-token-webhook',
    'bool',
    '',
    'authentication.webhook.enabled',
    'authenticate bearer tokens with the TokenReview API',
  ),
  config(
    'authentication-token-webhook-cache-ttl',
    'duration',
    '2m0s',
    'authentication.webhook.cacheTTL',
    'how long TokenReview answers are cached',
  ),
  config('authorization-mode', 'string', '"AlwaysAllow"', 'authorization.mode', 'AlwaysAllow or Webhook'),
  config(
    'authorization-webhook-cache-authorized-ttl',
    'duration',
    '5m0s',
    'authorization.webhook.cacheAuthorizedTTL',
    "how long 'authorized' SubjectAccessReview answers are cached",
  ),
  config(
    'authorization-webhook-cache-unauthorized-ttl',
    'duration',
    '30s',
    'authorization.webhook.cacheUnauthorizedTTL',
    "how long 'unauthorized' SubjectAccessReview answers are cached",
  ),
  cadvisor('boot-id-file', 'string', '"/proc/sys/kernel/random/boot_id"', 'files to read the boot ID from'),
  flagOnly(
    'bootstrap-kubeconfig',
    'string',
    '',
    'kubeconfig whose credentials request a client certificate when --kubeconfig is missing; --kubeconfig is then written',
  ),
  flagOnly('cert-dir', 'string', '"/var/lib/kubelet/pki"', 'directory of the TLS certificates and keys'),
  config('cgroup-driver', 'string', '"cgroupfs"', 'cgroupDriver', "cgroup driver: 'cgroupfs' or 'systemd'"),
  config('cgroup-root', 'string', '', 'cgroupRoot', 'root cgroup for the pod cgroups'),
  config('cgroups-per-qos', 'bool', 'true', 'cgroupsPerQOS', 'create the QoS and pod cgroup hierarchy'),
  config(
    'client-ca-file',
    'string',
    '',
    'authentication.x509.clientCAFile',
    'CA bundle that authenticates client certificates',
  ),
  flagOnly('cloud-provider', 'string', '', 'empty, or "external" (the node waits for a cloud controller)'),
  config('cluster-dns', 'strings', '', 'clusterDNS', 'comma-separated cluster DNS server IPs'),
  config('cluster-domain', 'string', '', 'clusterDomain', 'cluster domain added to pod DNS search paths'),
  flagOnly('config', 'string', '', 'KubeletConfiguration file; flags override it'),
  flagOnly(
    'config-dir',
    'string',
    '',
    'directory of drop-in *.conf KubeletConfiguration files merged over --config',
  ),
  cadvisor('container-hints', 'string', '"/etc/cadvisor/container_hints.json"', 'container hints file'),
  config(
    'container-log-max-files',
    'int32',
    '5',
    'containerLogMaxFiles',
    'most log files kept per container (>= 2)',
  ),
  config(
    'container-log-max-size',
    'string',
    '"10Mi"',
    'containerLogMaxSize',
    'size at which a container log is rotated',
  ),
  config(
    'container-runtime-endpoint',
    'string',
    '"unix:///run/containerd/containerd.sock"',
    'containerRuntimeEndpoint',
    'CRI runtime endpoint',
  ),
  cadvisor('containerd', 'string', '"/run/containerd/containerd.sock"', 'containerd endpoint'),
  cadvisor('containerd-namespace', 'string', '"k8s.io"', 'containerd namespace'),
  config('contention-profiling', 'bool', '', 'enableContentionProfiling', 'enable block profiling'),
  config('cpu-cfs-quota', 'bool', 'true', 'cpuCFSQuota', 'enforce CPU limits with CFS quota'),
  config('cpu-cfs-quota-period', 'duration', '100ms', 'cpuCFSQuotaPeriod', 'CPU CFS quota period'),
  config(
    'cpu-manager-policy',
    'string',
    '"none"',
    'cpuManagerPolicy',
    "CPU manager policy: 'none' or 'static'",
  ),
  config(
    'cpu-manager-policy-options',
    'mapStringString',
    '',
    'cpuManagerPolicyOptions',
    'key=value CPU manager policy options',
  ),
  config(
    'cpu-manager-reconcile-period',
    'duration',
    '10s',
    'cpuManagerReconcilePeriod',
    'CPU manager reconciliation period',
  ),
  config(
    'enable-controller-attach-detach',
    'bool',
    'true',
    'enableControllerAttachDetach',
    'let the attach/detach controller manage volume attachment',
  ),
  config(
    'enable-debugging-handlers',
    'bool',
    'true',
    'enableDebuggingHandlers',
    'serve logs, exec, attach and port-forward',
  ),
  cadvisor('enable-load-reader', 'bool', '', 'enable the CPU load reader'),
  config('enable-server', 'bool', 'true', 'enableServer', "enable the kubelet's server"),
  config(
    'enforce-node-allocatable',
    'strings',
    '[pods]',
    'enforceNodeAllocatable',
    "node allocatable enforcement levels: 'none', 'pods', 'system-reserved', 'kube-reserved'",
  ),
  config('event-burst', 'int32', '100', 'eventBurst', 'burst of event records'),
  config('event-qps', 'int32', '50', 'eventRecordQPS', 'QPS limit of event creations'),
  cadvisor('event-storage-age-limit', 'string', '"default=0"', 'max age of stored events'),
  cadvisor('event-storage-event-limit', 'string', '"default=0"', 'max number of stored events'),
  config(
    'eviction-hard',
    'mapStringString',
    '',
    'evictionHard',
    'hard eviction thresholds, e.g. memory.available<1Gi',
  ),
  config(
    'eviction-max-pod-grace-period',
    'int32',
    '',
    'evictionMaxPodGracePeriod',
    'most grace period (s) a soft eviction gives a pod',
  ),
  config(
    'eviction-minimum-reclaim',
    'mapStringString',
    '',
    'evictionMinimumReclaim',
    'minimum reclaims, e.g. imagefs.available=2Gi',
  ),
  config(
    'eviction-pressure-transition-period',
    'duration',
    '5m0s',
    'evictionPressureTransitionPeriod',
    'how long a pressure condition outlives its last observation',
  ),
  config(
    'eviction-soft',
    'mapStringString',
    '',
    'evictionSoft',
    'soft eviction thresholds, e.g. memory.available<1.5Gi',
  ),
  config(
    'eviction-soft-grace-period',
    'mapStringString',
    '',
    'evictionSoftGracePeriod',
    'grace periods of soft thresholds, e.g. memory.available=1m30s',
  ),
  {
    ...flagOnly('exit-on-lock-contention', 'bool', '', 'exit when another process contends for --lock-file'),
    noEffect: 'this kubelet takes no lock file',
  },
  {
    ...flagOnly(
      'experimental-allocatable-ignore-eviction',
      'bool',
      '',
      'ignore hard eviction thresholds when computing node allocatable',
    ),
    deprecated: 'will be removed in 1.25 or later.',
    noEffect: 'node allocatable always subtracts the hard eviction thresholds here',
  },
  {
    ...flagOnly('experimental-mounter-path', 'string', '', 'path of the mounter binary'),
    deprecated: 'will be removed in 1.25 or later. in favor of using CSI.',
    noEffect: 'this kubelet mounts with the mount(2) system call',
  },
  configKept('fail-cgroupv1', 'bool', 'true', 'failCgroupV1', 'refuse to start on a cgroup v1 host'),
  config('fail-swap-on', 'bool', 'true', 'failSwapOn', 'refuse to start if swap is enabled'),
  config('feature-gates', 'mapStringBool', '', 'featureGates', 'key=true|false feature gates'),
  config('file-check-frequency', 'duration', '20s', 'fileCheckFrequency', 'period of static pod path checks'),
  cadvisor('global-housekeeping-interval', 'duration', '1m0s', 'interval between global housekeepings'),
  config(
    'hairpin-mode',
    'string',
    '"promiscuous-bridge"',
    'hairpinMode',
    'hairpin NAT: "promiscuous-bridge", "hairpin-veth" or "none"',
  ),
  config('healthz-bind-address', 'ip', '127.0.0.1', 'healthzBindAddress', 'IP address of the healthz server'),
  config(
    'healthz-port',
    'int32',
    '10248',
    'healthzPort',
    'port of the localhost healthz endpoint (0 disables it)',
  ),
  { flag: 'help', short: 'h', type: 'bool', default: '', help: 'help for kubelet' },
  flagOnly('hostname-override', 'string', '', 'node name to use instead of the hostname'),
  {
    ...flagOnly('housekeeping-interval', 'duration', '10s', 'interval between container housekeepings'),
    noEffect: CADVISOR_NO_EFFECT,
  },
  config('http-check-frequency', 'duration', '20s', 'httpCheckFrequency', 'period of --manifest-url checks'),
  {
    ...flagOnly(
      'image-credential-provider-bin-dir',
      'string',
      '',
      'directory of the image credential provider plugin binaries',
    ),
  },
  {
    ...flagOnly(
      'image-credential-provider-config',
      'string',
      '',
      'image credential provider configuration file',
    ),
  },
  config(
    'image-gc-high-threshold',
    'int32',
    '85',
    'imageGCHighThresholdPercent',
    'disk usage percent that always triggers image GC',
  ),
  config(
    'image-gc-low-threshold',
    'int32',
    '80',
    'imageGCLowThresholdPercent',
    'disk usage percent image GC frees down to',
  ),
  config('image-service-endpoint', 'string', '', 'imageServiceEndpoint', 'CRI image service endpoint'),
  config(
    'kernel-memcg-notification',
    'bool',
    '',
    'kernelMemcgNotification',
    'use kernel memcg notifications for memory eviction',
  ),
  config('kube-api-burst', 'int32', '100', 'kubeAPIBurst', 'burst towards the API server'),
  config(
    'kube-api-content-type',
    'string',
    '"application/vnd.kubernetes.protobuf"',
    'contentType',
    'content type of requests to the API server',
  ),
  config('kube-api-qps', 'int32', '50', 'kubeAPIQPS', 'QPS towards the API server'),
  config(
    'kube-reserved',
    'mapStringString',
    '',
    'kubeReserved',
    'resources reserved for Kubernetes components',
  ),
  config('kube-reserved-cgroup', 'string', '', 'kubeReservedCgroup', 'cgroup of the Kubernetes components'),
  flagOnly(
    'kubeconfig',
    'string',
    '',
    'kubeconfig for the API server; without it the kubelet runs standalone',
  ),
  config('kubelet-cgroups', 'string', '', 'kubeletCgroups', 'cgroup to run the kubelet in'),
  config(
    'local-storage-capacity-isolation',
    'bool',
    'true',
    'localStorageCapacityIsolation',
    'enable local ephemeral storage isolation',
  ),
  {
    ...flagOnly('lock-file', 'string', '', 'file the kubelet locks'),
    noEffect: 'this kubelet takes no lock file',
  },
  cadvisor('log-cadvisor-usage', 'bool', '', "log cAdvisor's own usage"),
  configKept(
    'log-flush-frequency',
    'duration',
    '5s',
    'logging.flushFrequency',
    'maximum seconds between log flushes',
  ),
  config(
    'log-json-info-buffer-size',
    'quantity',
    '',
    'logging.options.json.infoBufferSize',
    'JSON format with split streams: info buffer size',
  ),
  config(
    'log-json-split-stream',
    'bool',
    '',
    'logging.options.json.splitStream',
    'JSON format: errors to stderr, info to stdout',
  ),
  config(
    'log-text-info-buffer-size',
    'quantity',
    '',
    'logging.options.text.infoBufferSize',
    'text format with split streams: info buffer size',
  ),
  config(
    'log-text-split-stream',
    'bool',
    '',
    'logging.options.text.splitStream',
    'text format: errors to stderr, info to stdout',
  ),
  config('logging-format', 'string', '"text"', 'logging.format', 'log format: "text" or "json"'),
  cadvisor(
    'machine-id-file',
    'string',
    '"/etc/machine-id,/var/lib/dbus/machine-id"',
    'files to read the machine ID from',
  ),
  config(
    'make-iptables-util-chains',
    'bool',
    'true',
    'makeIPTablesUtilChains',
    'ensure the iptables utility chains on the host',
  ),
  config('manifest-url', 'string', '', 'staticPodURL', 'URL of additional static pod specifications'),
  config(
    'manifest-url-header',
    'colonSeparatedMultimapStringString',
    '',
    'staticPodURLHeader',
    "HTTP headers for --manifest-url, e.g. 'a:hello,b:again'",
  ),
  {
    ...flagOnly(
      'max-housekeeping-interval',
      'duration',
      '15s',
      'largest interval between container housekeepings',
    ),
    noEffect: CADVISOR_NO_EFFECT,
  },
  config('max-open-files', 'int', '1000000', 'maxOpenFiles', 'files the kubelet process may open'),
  config('max-pods', 'int32', '110', 'maxPods', 'pods this kubelet can run'),
  {
    ...flagOnly('maximum-dead-containers', 'int32', '-1', 'old container instances to keep globally'),
    deprecated: CONTAINER_GC_DEPRECATION,
    noEffect: 'container garbage collection here keeps upstream default policy',
  },
  {
    ...flagOnly('maximum-dead-containers-per-container', 'int32', '1', 'old instances to keep per container'),
    deprecated: CONTAINER_GC_DEPRECATION,
    noEffect: 'container garbage collection here keeps upstream default policy',
  },
  config(
    'memory-manager-policy',
    'string',
    '"None"',
    'memoryManagerPolicy',
    "memory manager policy: 'None' or 'Static'",
  ),
  {
    ...flagOnly(
      'minimum-container-ttl-duration',
      'duration',
      '',
      'minimum age of a finished container before GC',
    ),
    deprecated: CONTAINER_GC_DEPRECATION,
    noEffect: 'container garbage collection here keeps upstream default policy',
  },
  config(
    'minimum-image-ttl-duration',
    'duration',
    '2m0s',
    'imageMinimumGCAge',
    'minimum age of an unused image before GC may remove it',
  ),
  flagOnly('node-ip', 'string', '', 'node IP address (or comma-separated dual-stack IPs)'),
  flagOnly('node-labels', 'mapStringString', '', 'labels to register the node with (key=value,...)'),
  config(
    'node-status-max-images',
    'int32',
    '50',
    'nodeStatusMaxImages',
    'images reported in the node status (-1: all)',
  ),
  config(
    'node-status-update-frequency',
    'duration',
    '10s',
    'nodeStatusUpdateFrequency',
    'how often the node status is computed and posted',
  ),
  config(
    'oom-score-adj',
    'int32',
    '-999',
    'oomScoreAdj',
    "the kubelet process's oom_score_adj [-1000, 1000]",
  ),
  config('pod-cidr', 'string', '', 'podCIDR', 'pod CIDR in standalone mode'),
  config('pod-manifest-path', 'string', '', 'staticPodPath', 'directory (or file) of static pod manifests'),
  config('pod-max-pids', 'int', '-1', 'podPidsLimit', 'max processes per pod (-1: node allocatable)'),
  config('pods-per-core', 'int32', '', 'podsPerCore', 'max pods per core (0: no limit)'),
  config('port', 'int32', '10250', 'port', 'port of the kubelet server'),
  config(
    'protect-kernel-defaults',
    'bool',
    '',
    'protectKernelDefaults',
    'fail if kernel tunables differ from the kubelet defaults',
  ),
  configKept('provider-id', 'string', '', 'providerID', 'node providerID'),
  config(
    'qos-reserved',
    'mapStringString',
    '',
    'qosReserved',
    'resources reserved per QoS level, e.g. memory=50%',
  ),
  config(
    'read-only-port',
    'int32',
    '10255',
    'readOnlyPort',
    'read-only port without authentication (0 disables it)',
  ),
  config('register-node', 'bool', 'true', 'registerNode', 'register the node with the API server'),
  config(
    'register-with-taints',
    '[]v1.Taint',
    '',
    'registerWithTaints',
    'taints to register the node with, "<key>=<value>:<effect>,..."',
  ),
  config('registry-burst', 'int32', '10', 'registryBurst', 'burst of image pulls'),
  config('registry-qps', 'int32', '5', 'registryPullQPS', 'image pull QPS limit (0: unlimited)'),
  config('reserved-cpus', 'string', '', 'reservedSystemCPUs', 'CPUs reserved for system and Kubernetes'),
  config(
    'reserved-memory',
    'reserved-memory',
    '',
    'reservedMemory',
    'memory reserved per NUMA node, e.g. 0:memory=1Gi,hugepages-1M=2Gi',
  ),
  config('resolv-conf', 'string', '"/etc/resolv.conf"', 'resolvConf', 'resolver file for dnsPolicy Default'),
  flagOnly('root-dir', 'string', '"/var/lib/kubelet"', 'kubelet state directory'),
  config(
    'rotate-certificates',
    'bool',
    '',
    'rotateCertificates',
    'renew the client certificate with a new CSR as it nears expiry',
  ),
  config(
    'rotate-server-certificates',
    'bool',
    '',
    'serverTLSBootstrap',
    'request and rotate the serving certificate from the API server',
  ),
  config('runonce', 'bool', '', 'runOnce', 'exit after spawning the static pods'),
  {
    ...flagOnly('runtime-cgroups', 'string', '', 'cgroup to create and run the runtime in'),
    noEffect: 'the container runtime is started and placed by its own service manager here',
  },
  config(
    'runtime-request-timeout',
    'duration',
    '2m0s',
    'runtimeRequestTimeout',
    'timeout of runtime requests except pull, logs, exec and attach',
  ),
  configKept(
    'seccomp-default',
    'RuntimeDefault',
    '',
    'seccompDefault',
    'use RuntimeDefault as the default seccomp profile',
  ),
  config('serialize-image-pulls', 'bool', 'true', 'serializeImagePulls', 'pull one image at a time'),
  cadvisor('storage-driver-buffer-duration', 'duration', '1m0s', 'storage driver buffering period'),
  cadvisor('storage-driver-db', 'string', '"cadvisor"', 'storage driver database name'),
  cadvisor('storage-driver-host', 'string', '"localhost:8086"', 'storage driver host:port'),
  cadvisor('storage-driver-password', 'string', '"root"', 'storage driver password'),
  cadvisor('storage-driver-secure', 'bool', '', 'use a secure connection to the storage driver'),
  cadvisor('storage-driver-table', 'string', '"stats"', 'storage driver table name'),
  cadvisor('storage-driver-user', 'string', '"root"', 'storage driver user name'),
  config(
    'streaming-connection-idle-timeout',
    'duration',
    '4h0m0s',
    'streamingConnectionIdleTimeout',
    'idle time before a streaming connection is closed',
  ),
  config('sync-frequency', 'duration', '1m0s', 'syncFrequency', 'max period between pod syncs'),
  config(
    'system-cgroups',
    'string',
    '',
    'systemCgroups',
    'cgroup for the non-kernel processes not in a cgroup',
  ),
  config('system-reserved', 'mapStringString', '', 'systemReserved', 'resources reserved for the OS'),
  config('system-reserved-cgroup', 'string', '', 'systemReservedCgroup', 'cgroup of the OS components'),
  config('tls-cert-file', 'string', '', 'tlsCertFile', 'serving certificate'),
  config(
    'tls-cipher-suites',
    'strings',
    '',
    'tlsCipherSuites',
    'comma-separated cipher suites of the server',
  ),
  config(
    'tls-min-version',
    'string',
    '',
    'tlsMinVersion',
    'minimum TLS version (VersionTLS12, VersionTLS13…)',
  ),
  config('tls-private-key-file', 'string', '', 'tlsPrivateKeyFile', 'serving key'),
  config(
    'topology-manager-policy',
    'string',
    '"none"',
    'topologyManagerPolicy',
    "topology manager policy: 'none', 'best-effort', 'restricted', 'single-numa-node'",
  ),
  config(
    'topology-manager-policy-options',
    'mapStringString',
    '',
    'topologyManagerPolicyOptions',
    'key=value topology manager policy options',
  ),
  config(
    'topology-manager-scope',
    'string',
    '"container"',
    'topologyManagerScope',
    "topology hint scope: 'container' or 'pod'",
  ),
  { ...configKept('v', 'Level', '', 'logging.verbosity', 'log level verbosity'), short: 'v' },
  flagOnly('version', 'version[=true]', '', '--version, --version=raw prints version information and quits'),
  configKept('vmodule', 'pattern=N,...', '', 'logging.vmodule', 'per-file log verbosity, pattern=N,...'),
  config(
    'volume-plugin-dir',
    'string',
    '"/usr/libexec/kubernetes/kubelet-plugins/volume/exec/"',
    'volumePluginDir',
    'directory of third-party volume plugins',
  ),
  config(
    'volume-stats-agg-period',
    'duration',
    '1m0s',
    'volumeStatsAggPeriod',
    'how often volume disk usage is computed',
  ),
  // Ours: removed upstream in v1.35, still passed by older kubeadm flag files.
  {
    ...flagOnly(
      'pod-infra-container-image',
      'string',
      '',
      'removed upstream in v1.35: the runtime chooses the sandbox image',
    ),
    deprecated:
      'will be removed in 1.35. Image garbage collector will get sandbox image information from CRI.',
    extension: true,
  },
];

const byName = new Map<string, KubeletFlagSpec>();
for (const spec of KUBELET_FLAGS) {
  byName.set(spec.flag, spec);
  if (spec.short) byName.set(spec.short, spec);
}

/** The flag named `name` (long name or shorthand), if the kubelet has one. */
export function kubeletFlagSpec(name: string): KubeletFlagSpec | undefined {
  return byName.get(name);
}
