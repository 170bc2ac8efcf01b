/**
 * Every flag of upstream kube-proxy v1.36 (cmd/kube-proxy/app/options.go, component-base's
 * logging flags, the -v/--vmodule klog flags and the cAdvisor flags its binary inherits), with
 * pflag's value type and the default `--help` prints, plus this proxy's own two. The test in
 * test/flags-upstream.test.ts compares the table with the recorded upstream `--help`.
 */

/** pflag's value type names, as `--help` prints them. */
export type FlagType =
  | 'bool'
  | 'string'
  | 'strings'
  | 'ip'
  | 'ipport'
  | 'int32'
  | 'float32'
  | 'duration'
  | 'quantity'
  | 'mapStringBool'
  | 'LocalMode'
  | 'ProxyMode'
  | 'Level'
  | 'pattern=N,...'
  | 'version[=true]';

/** How a flag given on the command line meets a --config file. */
export type ConfigPrecedence =
  /** Upstream replaces the whole flag-built configuration with the file's: the flag is ignored (and we warn). */
  | 'file-wins'
  /** Upstream copies it over the file's value: logging flags (copyLogsFromFlags) and --hostname-override. */
  | 'flag-wins'
  /** Not a configuration field (--config, --cleanup, --master …): always honoured. */
  | 'not-config';

export interface FlagSpec {
  flag: string;
  /** pflag shorthand, e.g. `-v`. */
  short?: string;
  type: FlagType;
  /** The default as upstream's `--help` prints it ("" when it prints none). */
  default: string;
  /** The KubeProxyConfiguration v1alpha1 fields the value lands in. */
  paths: readonly string[];
  precedence: ConfigPrecedence;
  help: string;
  /** pflag's MarkDeprecated message: printed when the flag is used; the flag is hidden from --help. */
  deprecated?: string;
  /** Accepted, but it has no effect in this proxy: warned about by name when given. */
  noEffect?: string;
  /** Ours, not upstream's. */
  extension?: boolean;
}

const config = (
  flag: string,
  type: FlagType,
  def: string,
  paths: readonly string[],
  help: string,
): FlagSpec => ({ flag, type, default: def, paths, precedence: 'file-wins', help });

const logging = (flag: string, type: FlagType, def: string, path: string, help: string): FlagSpec => ({
  flag,
  type,
  default: def,
  paths: [path],
  precedence: 'flag-wins',
  help,
});

const CADVISOR_NO_EFFECT =
  "a cAdvisor flag upstream's binary inherits; this kube-proxy does not read machine or boot IDs";

export const FLAGS: readonly FlagSpec[] = [
  config(
    'bind-address',
    'ip',
    '0.0.0.0',
    ['bindAddress'],
    "overrides the proxy's idea of the node's primary IP",
  ),
  config(
    'bind-address-hard-fail',
    'bool',
    '',
    ['bindAddressHardFail'],
    'treat failure to bind a server port as fatal',
  ),
  {
    flag: 'boot-id-file',
    type: 'string',
    default: '"/proc/sys/kernel/random/boot_id"',
    paths: [],
    precedence: 'not-config',
    help: 'comma-separated files to read the boot ID from (no effect here)',
    noEffect: CADVISOR_NO_EFFECT,
  },
  {
    flag: 'cleanup',
    type: 'bool',
    default: '',
    paths: [],
    precedence: 'not-config',
    help: 'remove every rule this proxy owns, then exit',
  },
  config(
    'cluster-cidr',
    'string',
    '',
    ['clusterCIDR'],
    'CIDR range(s) of the pods in the cluster (comma-separated, one per family)',
  ),
  {
    flag: 'config',
    type: 'string',
    default: '',
    paths: [],
    precedence: 'not-config',
    help: 'path to a KubeProxyConfiguration file (flags that mirror its fields are then ignored, as upstream)',
  },
  config(
    'config-sync-period',
    'duration',
    '15m0s',
    ['configSyncPeriod'],
    'how often configuration from the API server is refreshed',
  ),
  config(
    'conntrack-max-per-core',
    'int32',
    '32768',
    ['conntrack.maxPerCore'],
    'NAT connections to track per CPU core (0 leaves the limit alone)',
  ),
  config(
    'conntrack-min',
    'int32',
    '131072',
    ['conntrack.min'],
    'minimum conntrack entries regardless of conntrack-max-per-core',
  ),
  config(
    'conntrack-tcp-be-liberal',
    'bool',
    '',
    ['conntrack.tcpBeLiberal'],
    'set nf_conntrack_tcp_be_liberal',
  ),
  config(
    'conntrack-tcp-timeout-close-wait',
    'duration',
    '1h0m0s',
    ['conntrack.tcpCloseWaitTimeout'],
    'conntrack timeout for CLOSE_WAIT',
  ),
  config(
    'conntrack-tcp-timeout-established',
    'duration',
    '24h0m0s',
    ['conntrack.tcpEstablishedTimeout'],
    'idle timeout for established TCP connections (0 leaves it alone)',
  ),
  config(
    'conntrack-udp-timeout',
    'duration',
    '',
    ['conntrack.udpTimeout'],
    'idle timeout for UNREPLIED UDP (0 leaves it alone)',
  ),
  config(
    'conntrack-udp-timeout-stream',
    'duration',
    '',
    ['conntrack.udpStreamTimeout'],
    'idle timeout for ASSURED UDP (0 leaves it alone)',
  ),
  config(
    'detect-local-mode',
    'LocalMode',
    '',
    ['detectLocalMode'],
    'how local traffic is detected: ClusterCIDR, NodeCIDR, BridgeInterface or InterfaceNamePrefix',
  ),
  config('feature-gates', 'mapStringBool', '', ['featureGates'], 'key=value pairs of feature gates'),
  config(
    'healthz-bind-address',
    'ipport',
    '0.0.0.0:10256',
    ['healthzBindAddress'],
    'IP:port for the health check server',
  ),
  {
    flag: 'healthz-port',
    type: 'int32',
    default: '10256',
    paths: ['healthzBindAddress'],
    precedence: 'file-wins',
    help: 'port of the health check server (0 disables it)',
    deprecated:
      'This flag is deprecated and will be removed in a future release. Please use --healthz-bind-address instead.',
  },
  {
    flag: 'hostname-override',
    type: 'string',
    default: '',
    paths: ['hostnameOverride'],
    precedence: 'flag-wins',
    help: 'use this name as the node name instead of the hostname',
  },
  {
    flag: 'init-only',
    type: 'bool',
    default: '',
    paths: [],
    precedence: 'not-config',
    help: 'do the set-up that needs full root (conntrack sysctls, route_localnet), then exit',
  },
  config(
    'iptables-localhost-nodeports',
    'bool',
    'true',
    ['iptables.localhostNodePorts'],
    'accept NodePort connections on 127.0.0.1 (iptables mode, IPv4)',
  ),
  config(
    'iptables-masquerade-bit',
    'int32',
    '14',
    ['iptables.masqueradeBit'],
    'iptables and ipvs modes: the fwmark bit marking packets for SNAT (0-31)',
  ),
  // Upstream sets the running mode's sync period from these unless the mode is ipvs.
  config(
    'iptables-min-sync-period',
    'duration',
    '1s',
    ['iptables.minSyncPeriod', 'nftables.minSyncPeriod'],
    'minimum interval between rule syncs',
  ),
  config(
    'iptables-sync-period',
    'duration',
    '30s',
    ['iptables.syncPeriod', 'nftables.syncPeriod'],
    'maximum interval between rule syncs',
  ),
  config('ipvs-exclude-cidrs', 'strings', '', ['ipvs.excludeCIDRs'], 'CIDRs IPVS cleanup must not touch'),
  config(
    'ipvs-min-sync-period',
    'duration',
    '1s',
    ['ipvs.minSyncPeriod'],
    'minimum interval between IPVS syncs',
  ),
  config('ipvs-scheduler', 'string', '', ['ipvs.scheduler'], 'IPVS scheduler'),
  config('ipvs-strict-arp', 'bool', '', ['ipvs.strictARP'], 'set arp_ignore=1 and arp_announce=2'),
  config('ipvs-sync-period', 'duration', '30s', ['ipvs.syncPeriod'], 'maximum interval between IPVS syncs'),
  config(
    'ipvs-tcp-timeout',
    'duration',
    '',
    ['ipvs.tcpTimeout'],
    'IPVS idle TCP timeout (0 leaves it alone)',
  ),
  config(
    'ipvs-tcpfin-timeout',
    'duration',
    '',
    ['ipvs.tcpFinTimeout'],
    'IPVS TCP FIN_WAIT timeout (0 leaves it alone)',
  ),
  config('ipvs-udp-timeout', 'duration', '', ['ipvs.udpTimeout'], 'IPVS UDP timeout (0 leaves it alone)'),
  config(
    'kube-api-burst',
    'int32',
    '10',
    ['clientConnection.burst'],
    'burst to use while talking with the API server',
  ),
  config(
    'kube-api-content-type',
    'string',
    '"application/vnd.kubernetes.protobuf"',
    ['clientConnection.contentType'],
    'content type of requests sent to the API server',
  ),
  config(
    'kube-api-qps',
    'float32',
    '5',
    ['clientConnection.qps'],
    'QPS to use while talking with the API server',
  ),
  config('kubeconfig', 'string', '', ['clientConnection.kubeconfig'], 'path to a kubeconfig file'),
  logging(
    'log-flush-frequency',
    'duration',
    '5s',
    'logging.flushFrequency',
    'maximum seconds between log flushes',
  ),
  logging(
    'log-json-info-buffer-size',
    'quantity',
    '',
    'logging.options.json.infoBufferSize',
    'json format: size of the info stream buffer',
  ),
  logging(
    'log-json-split-stream',
    'bool',
    '',
    'logging.options.json.splitStream',
    'json format: info to stdout, errors to stderr',
  ),
  logging(
    'log-text-info-buffer-size',
    'quantity',
    '',
    'logging.options.text.infoBufferSize',
    'text format: size of the info stream buffer',
  ),
  logging(
    'log-text-split-stream',
    'bool',
    '',
    'logging.options.text.splitStream',
    'text format: info to stdout, errors to stderr',
  ),
  logging(
    'logging-format',
    'string',
    '"text"',
    'logging.format',
    'log format: "text" (klog header) or "json"',
  ),
  {
    flag: 'machine-id-file',
    type: 'string',
    default: '"/etc/machine-id,/var/lib/dbus/machine-id"',
    paths: [],
    precedence: 'not-config',
    help: 'comma-separated files to read the machine ID from (no effect here)',
    noEffect: CADVISOR_NO_EFFECT,
  },
  config(
    'masquerade-all',
    'bool',
    '',
    ['iptables.masqueradeAll', 'nftables.masqueradeAll'],
    'SNAT all traffic sent via Service cluster IPs',
  ),
  {
    flag: 'master',
    type: 'string',
    default: '',
    paths: [],
    precedence: 'not-config',
    help: "the API server's address (overrides the kubeconfig's)",
  },
  config(
    'metrics-bind-address',
    'ipport',
    '127.0.0.1:10249',
    ['metricsBindAddress'],
    'IP:port for the metrics server (empty disables it)',
  ),
  {
    flag: 'metrics-port',
    type: 'int32',
    default: '10249',
    paths: ['metricsBindAddress'],
    precedence: 'file-wins',
    help: 'port of the metrics server (0 disables it)',
    deprecated:
      'This flag is deprecated and will be removed in a future release. Please use --metrics-bind-address instead.',
  },
  config(
    'nodeport-addresses',
    'strings',
    '',
    ['nodePortAddresses'],
    'CIDRs (or "primary") NodePorts are served on',
  ),
  config(
    'oom-score-adj',
    'int32',
    '-999',
    ['oomScoreAdj'],
    'oom_score_adj value for the process ([-1000, 1000])',
  ),
  config(
    'pod-bridge-interface',
    'string',
    '',
    ['detectLocal.bridgeInterface'],
    'bridge interface for detect-local-mode BridgeInterface',
  ),
  config(
    'pod-interface-name-prefix',
    'string',
    '',
    ['detectLocal.interfaceNamePrefix'],
    'interface prefix for detect-local-mode InterfaceNamePrefix',
  ),
  config('profiling', 'bool', '', ['enableProfiling'], 'serve /debug/pprof on the metrics server'),
  config(
    'proxy-mode',
    'ProxyMode',
    '',
    ['mode'],
    "proxy mode: 'iptables' (default), 'nftables', 'ipvs' (deprecated) or 'userspace'",
  ),
  {
    ...config(
      'proxy-port-range',
      'string',
      '',
      ['portRange'],
      'host port range the userspace proxies listen on (begin-end or begin+offset)',
    ),
    extension: true,
  },
  config(
    'show-hidden-metrics-for-version',
    'string',
    '',
    ['showHiddenMetricsForVersion'],
    'previous minor version to show hidden metrics for',
  ),
  {
    ...config(
      'userspace-bind-only',
      'bool',
      '',
      ['userspaceBindOnly'],
      "userspace mode: listen on the Services' own IPs/ports instead of programming REDIRECT rules (no kernel rules; the IPs must be local)",
    ),
    extension: true,
  },
  { ...logging('v', 'Level', '', 'logging.verbosity', 'number for the log level verbosity'), short: 'v' },
  {
    flag: 'version',
    type: 'version[=true]',
    default: '',
    paths: [],
    precedence: 'not-config',
    help: 'print version information and quit; --version=raw prints more',
  },
  logging(
    'vmodule',
    'pattern=N,...',
    '',
    'logging.vmodule',
    'comma-separated pattern=N settings for file-filtered logging',
  ),
  {
    flag: 'write-config-to',
    type: 'string',
    default: '',
    paths: [],
    precedence: 'not-config',
    help: 'write the resolved configuration to this file, then exit',
  },
];

/** The spec of `--<flag>`. */
export function flagSpec(flag: string): FlagSpec | undefined {
  return FLAGS.find((f) => f.flag === flag);
}
