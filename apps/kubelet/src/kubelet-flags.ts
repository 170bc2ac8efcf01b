// From the root, not /config: see packages/kubelet/src/index.ts.
import {
  applyV1beta1ZeroDefaults,
  InvalidConfigError,
  type KubeletConfiguration,
  kubeletConfigurationApiVersion,
  kubeletConfigurationKind,
  mergeConfigurationDropIns,
  parseKubeletConfiguration,
  readKubeletConfigurationFile,
} from '@nodeagent/kubelet';
import { Command, Option } from 'commander';
import {
  parseBoolFlag,
  parseEvictionFlag,
  parseIntFlag,
  parseListFlag,
  parseMapFlag,
  parseTaintsFlag,
} from './flag-values';
import { versionText } from './version';

/** Settings that only exist as flags (upstream KubeletFlags), not in KubeletConfiguration. */
export interface KubeletFlags {
  config?: string;
  /** --config-dir: drop-in `*.conf` files merged over --config in lexical order. */
  configDir?: string;
  /** --cloud-provider: "" or "external" (upstream v1.34 has no in-tree providers). */
  cloudProvider: '' | 'external';
  /** --pod-infra-container-image: deprecated upstream; the runtime's sandbox image is used. */
  podInfraContainerImage?: string;
  kubeconfig?: string;
  /** --bootstrap-kubeconfig: credentials for the client certificate CSR when --kubeconfig is missing or expired. */
  bootstrapKubeconfig?: string;
  /** --cert-dir: where bootstrapped and rotated certificates are stored. */
  certDir: string;
  hostnameOverride?: string;
  nodeIP: string[];
  rootDir: string;
  nodeLabels: Record<string, string>;
  /** Log verbosity (--v). */
  v: number;
}

export interface ResolvedKubeletOptions {
  flags: KubeletFlags;
  config: KubeletConfiguration;
  /** Fields in the config file this kubelet does not know (reported as warnings). */
  unknownFields: string[];
}

type Overrides = Record<string, unknown>;

interface ConfigFlag {
  flag: string;
  description: string;
  /** Dotted KubeletConfiguration field the flag sets. */
  field: string;
  /** Turns the flag text into the field's value; strings pass through. */
  parse?: (flag: string, value: string) => unknown;
}

const int = parseIntFlag;
const list = (_flag: string, value: string) => parseListFlag(value);
const featureGates = (flag: string, value: string) =>
  Object.fromEntries(Object.entries(parseMapFlag(flag, value)).map(([k, b]) => [k, parseBoolFlag(flag, b)]));

/** Flags that override KubeletConfiguration fields (upstream kubelet flag names). */
const configFlags: ConfigFlag[] = [
  {
    flag: 'container-runtime-endpoint',
    description: 'CRI runtime endpoint (unix socket)',
    field: 'containerRuntimeEndpoint',
  },
  {
    flag: 'image-service-endpoint',
    description: 'CRI image service endpoint',
    field: 'imageServiceEndpoint',
  },
  { flag: 'pod-manifest-path', description: 'directory of static pod manifests', field: 'staticPodPath' },
  { flag: 'sync-frequency', description: 'max period between pod syncs', field: 'syncFrequency' },
  { flag: 'file-check-frequency', description: 'static pod path check period', field: 'fileCheckFrequency' },
  {
    flag: 'node-status-update-frequency',
    description: 'node status period',
    field: 'nodeStatusUpdateFrequency',
  },
  { flag: 'runtime-request-timeout', description: 'timeout of CRI calls', field: 'runtimeRequestTimeout' },
  { flag: 'address', description: 'IP address the kubelet server listens on', field: 'address' },
  { flag: 'port', description: 'kubelet server port', field: 'port', parse: int },
  { flag: 'read-only-port', description: 'read-only port (0 disables)', field: 'readOnlyPort', parse: int },
  { flag: 'healthz-port', description: 'healthz port (0 disables)', field: 'healthzPort', parse: int },
  { flag: 'max-pods', description: 'maximum pods on this node', field: 'maxPods', parse: int },
  { flag: 'pod-max-pids', description: 'max pids per pod (-1 unlimited)', field: 'podPidsLimit', parse: int },
  { flag: 'cluster-dns', description: 'comma-separated cluster DNS IPs', field: 'clusterDNS', parse: list },
  { flag: 'cluster-domain', description: 'cluster domain for pod DNS search paths', field: 'clusterDomain' },
  { flag: 'resolv-conf', description: 'resolver file for dnsPolicy Default', field: 'resolvConf' },
  { flag: 'tls-cert-file', description: 'serving certificate', field: 'tlsCertFile' },
  { flag: 'tls-private-key-file', description: 'serving key', field: 'tlsPrivateKeyFile' },
  { flag: 'cgroup-driver', description: 'cgroupfs or systemd', field: 'cgroupDriver' },
  { flag: 'provider-id', description: 'node providerID', field: 'providerID' },
  {
    flag: 'eviction-hard',
    description: 'hard eviction thresholds, e.g. memory.available<100Mi',
    field: 'evictionHard',
    parse: parseEvictionFlag,
  },
  {
    flag: 'eviction-soft',
    description: 'soft eviction thresholds',
    field: 'evictionSoft',
    parse: parseEvictionFlag,
  },
  {
    flag: 'register-with-taints',
    description: 'taints key=value:Effect to register with',
    field: 'registerWithTaints',
    parse: parseTaintsFlag,
  },
  {
    flag: 'image-gc-high-threshold',
    description: 'disk usage percent that triggers image GC',
    field: 'imageGCHighThresholdPercent',
    parse: int,
  },
  {
    flag: 'image-gc-low-threshold',
    description: 'disk usage percent image GC frees down to',
    field: 'imageGCLowThresholdPercent',
    parse: int,
  },
  {
    flag: 'minimum-image-gc-age',
    description: 'minimum age of an unused image before GC may remove it',
    field: 'imageMinimumGCAge',
  },
  {
    flag: 'eviction-soft-grace-period',
    description: 'grace periods of soft thresholds, e.g. memory.available=1m30s',
    field: 'evictionSoftGracePeriod',
    parse: parseMapFlag,
  },
  {
    flag: 'eviction-minimum-reclaim',
    description: 'minimum reclaim once a threshold is met, e.g. memory.available=500Mi',
    field: 'evictionMinimumReclaim',
    parse: parseMapFlag,
  },
  {
    flag: 'eviction-pressure-transition-period',
    description: 'how long a pressure condition outlives its last observation',
    field: 'evictionPressureTransitionPeriod',
  },
  {
    flag: 'eviction-max-pod-grace-period',
    description: 'most grace period (s) a soft eviction gives a pod',
    field: 'evictionMaxPodGracePeriod',
    parse: int,
  },
  { flag: 'cgroup-root', description: 'root cgroup for the pod cgroups', field: 'cgroupRoot' },
  {
    flag: 'client-ca-file',
    description: 'CA bundle for client certificates',
    field: 'authentication.x509.clientCAFile',
  },
  { flag: 'authorization-mode', description: 'AlwaysAllow or Webhook', field: 'authorization.mode' },
  {
    flag: 'allowed-unsafe-sysctls',
    description: 'comma-separated unsafe sysctls or patterns (ending in *) pods may set',
    field: 'allowedUnsafeSysctls',
    parse: list,
  },
  { flag: 'feature-gates', description: 'key=true|false pairs', field: 'featureGates', parse: featureGates },
  {
    flag: 'kube-reserved',
    description: 'resources reserved for Kubernetes components, e.g. cpu=200m,memory=500Mi',
    field: 'kubeReserved',
    parse: parseMapFlag,
  },
  {
    flag: 'system-reserved',
    description: 'resources reserved for the OS, e.g. cpu=200m,memory=500Mi',
    field: 'systemReserved',
    parse: parseMapFlag,
  },
  { flag: 'logging-format', description: 'log format: text or json', field: 'logging.format' },
  { flag: 'pods-per-core', description: 'max pods per core (0: no limit)', field: 'podsPerCore', parse: int },
  {
    flag: 'max-parallel-image-pulls',
    description: 'max image pulls at once (needs --serialize-image-pulls=false)',
    field: 'maxParallelImagePulls',
    parse: int,
  },
  {
    flag: 'enforce-node-allocatable',
    description: 'comma-separated enforcement levels (pods, system-reserved, kube-reserved, none)',
    field: 'enforceNodeAllocatable',
    parse: list,
  },
  {
    flag: 'oom-score-adj',
    description: "the kubelet process's oom_score_adj",
    field: 'oomScoreAdj',
    parse: int,
  },
];

/** Boolean flags with an optional value, as pflag takes them (--register-node, --register-node=false). */
const boolFlags: Omit<ConfigFlag, 'parse'>[] = [
  { flag: 'register-node', description: 'register the node with the API server', field: 'registerNode' },
  {
    flag: 'rotate-certificates',
    description: 'renew the client certificate with a new CSR as it nears expiry',
    field: 'rotateCertificates',
  },
  { flag: 'fail-swap-on', description: 'refuse to start with swap enabled', field: 'failSwapOn' },
  { flag: 'cgroups-per-qos', description: 'create QoS cgroups', field: 'cgroupsPerQOS' },
  { flag: 'serialize-image-pulls', description: 'pull one image at a time', field: 'serializeImagePulls' },
  {
    flag: 'anonymous-auth',
    description: 'allow anonymous requests to the kubelet server',
    field: 'authentication.anonymous.enabled',
  },
  {
    flag: 'authentication-token-webhook',
    description: 'authenticate bearer tokens with TokenReview',
    field: 'authentication.webhook.enabled',
  },
];

/** Sets a dotted field in the (decoded) configuration object, keeping its siblings. */
function setField(target: Overrides, field: string, value: unknown): void {
  const path = field.split('.');
  let at = target;
  for (const key of path.slice(0, -1)) {
    const next = at[key];
    at[key] = next !== null && typeof next === 'object' && !Array.isArray(next) ? { ...next } : {};
    at = at[key] as Overrides;
  }
  at[path[path.length - 1]!] = value;
}

/** The commander program with every supported upstream flag. */
export function kubeletCommand(): Command {
  const command = new Command('nodeagent-kubelet')
    .description('The node agent that runs pods on a CRI runtime.')
    .option('--config <file>', 'KubeletConfiguration file (kubelet.config.k8s.io/v1beta1); flags override it')
    .option(
      '--config-dir <dir>',
      'drop-in KubeletConfiguration *.conf files merged over --config, in lexical order',
    )
    .option(
      '--cloud-provider <provider>',
      'only "external" (or empty): the node waits for a cloud controller',
    )
    .option('--pod-infra-container-image <image>', 'deprecated: the runtime chooses the sandbox image')
    .option('--kubeconfig <file>', 'kubeconfig for the API server; without it the kubelet runs standalone')
    .option(
      '--bootstrap-kubeconfig <file>',
      'kubeconfig whose credentials request a client certificate (TLS bootstrapping); --kubeconfig is then written',
    )
    .option('--cert-dir <dir>', 'directory of the TLS certificates and keys', '/var/lib/kubelet/pki')
    .option('--hostname-override <name>', 'node name to use instead of the hostname')
    .option('--node-ip <ips>', 'comma-separated node IPs (one per family)')
    .option('--root-dir <dir>', 'kubelet state directory', '/var/lib/kubelet')
    .option('--node-labels <labels>', 'labels to register the node with (key=value,...)')
    .addOption(new Option('-v, --v <level>', 'log verbosity').default('0'))
    .version(versionText(), '--version', 'print version information and quit')
    .allowExcessArguments(false);
  for (const { flag, description } of configFlags) command.option(`--${flag} <value>`, description);
  for (const { flag, description } of boolFlags) command.option(`--${flag} [bool]`, description);
  return command;
}

/**
 * Parses argv (without node and script), loads --config, applies flag overrides on top (flags
 * win, as upstream) and validates the result.
 */
export async function resolveKubeletOptions(
  argv: string[],
  options: { quiet?: boolean } = {},
): Promise<ResolvedKubeletOptions> {
  const command = kubeletCommand().exitOverride();
  // Library callers get errors thrown, not printed; the binary lets commander print help.
  if (options.quiet !== false) command.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  command.parse(argv, { from: 'user' });
  const values = command.opts<Record<string, string | boolean | undefined>>();

  const cloudProvider = (values.cloudProvider as string | undefined) ?? '';
  if (cloudProvider !== '' && cloudProvider !== 'external') {
    throw new InvalidConfigError(
      '--cloud-provider',
      cloudProvider,
      'only "external" is supported: in-tree cloud providers were removed upstream',
    );
  }
  const flags: KubeletFlags = {
    config: values.config as string | undefined,
    configDir: values.configDir as string | undefined,
    cloudProvider,
    podInfraContainerImage: values.podInfraContainerImage as string | undefined,
    kubeconfig: values.kubeconfig as string | undefined,
    bootstrapKubeconfig: values.bootstrapKubeconfig as string | undefined,
    certDir: values.certDir as string,
    hostnameOverride: values.hostnameOverride as string | undefined,
    nodeIP: values.nodeIp ? parseListFlag(values.nodeIp as string) : [],
    rootDir: values.rootDir as string,
    nodeLabels: values.nodeLabels ? parseMapFlag('node-labels', values.nodeLabels as string) : {},
    v: parseIntFlag('v', String(values.v ?? '0')),
  };
  if (flags.bootstrapKubeconfig && !flags.kubeconfig)
    throw new InvalidConfigError(
      '--bootstrap-kubeconfig',
      flags.bootstrapKubeconfig,
      'needs --kubeconfig: the bootstrapped kubeconfig is written there',
    );

  // Upstream's order: the file (and drop-ins) decoded and defaulted, flags on top, then
  // validation once, so kubeadm's zero values and its flags make a valid configuration.
  let raw: Record<string, unknown> = flags.config
    ? await readKubeletConfigurationFile(flags.config)
    : { apiVersion: kubeletConfigurationApiVersion, kind: kubeletConfigurationKind };
  if (flags.configDir) raw = await mergeConfigurationDropIns(raw, flags.configDir);
  const overrides = applyV1beta1ZeroDefaults(raw);
  for (const { flag, field, parse } of configFlags) {
    const value = values[camel(flag)];
    if (typeof value === 'string') setField(overrides, field, parse ? parse(flag, value) : value);
  }
  for (const { flag, field } of boolFlags) {
    const value = values[camel(flag)];
    if (value !== undefined) setField(overrides, field, parseBoolFlag(flag, value));
  }
  let config: KubeletConfiguration;
  let unknownFields: string[];
  try {
    ({ config, unknownFields } = parseKubeletConfiguration(overrides, { zeroValueDefaults: false }));
  } catch (error) {
    if (error instanceof InvalidConfigError) {
      const flag = [...configFlags, ...boolFlags].find(
        (f) =>
          values[camel(f.flag)] !== undefined &&
          (error.field === f.field ||
            error.field.startsWith(`${f.field}[`) ||
            error.field.startsWith(`${f.field}.`)),
      );
      if (flag) throw new InvalidConfigError(`--${flag.flag}`, error.value, error.reason);
    }
    throw error;
  }
  return { flags, config, unknownFields };
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
