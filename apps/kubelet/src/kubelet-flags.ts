import {
  applyConfigurationOverrides,
  defaultKubeletConfiguration,
  InvalidConfigError,
  type KubeletConfiguration,
  type KubeletConfigurationInput,
  loadKubeletConfigurationFile,
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
  kubeconfig?: string;
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
];

/** Boolean flags with an optional value, as pflag takes them (--register-node, --register-node=false). */
const boolFlags: Omit<ConfigFlag, 'parse'>[] = [
  { flag: 'register-node', description: 'register the node with the API server', field: 'registerNode' },
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

/** Sets a dotted field in the overrides, copying nested objects from the current config first. */
function setField(overrides: Overrides, config: KubeletConfiguration, field: string, value: unknown): void {
  const path = field.split('.');
  let target = overrides;
  let source = config as unknown as Record<string, unknown>;
  for (const key of path.slice(0, -1)) {
    if (target[key] === undefined) target[key] = structuredClone(source[key] ?? {});
    target = target[key] as Overrides;
    source = (source[key] ?? {}) as Record<string, unknown>;
  }
  target[path[path.length - 1]!] = value;
}

/** The commander program with every supported upstream flag. */
export function kubeletCommand(): Command {
  const command = new Command('nodeagent-kubelet')
    .description('The node agent that runs pods on a CRI runtime.')
    .option('--config <file>', 'KubeletConfiguration file (kubelet.config.k8s.io/v1beta1); flags override it')
    .option('--kubeconfig <file>', 'kubeconfig for the API server; without it the kubelet runs standalone')
    .option('--hostname-override <name>', 'node name to use instead of the hostname')
    .option('--node-ip <ips>', 'comma-separated node IPs (one per family)')
    .option('--root-dir <dir>', 'kubelet state directory', '/var/lib/kubelet')
    .option('--node-labels <labels>', 'labels to register the node with (key=value,...)')
    .addOption(new Option('-v, --v <level>', 'log verbosity').default('0'))
    .version(versionText('nodeagent-kubelet'), '--version', 'print version information and quit')
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

  const flags: KubeletFlags = {
    config: values.config as string | undefined,
    kubeconfig: values.kubeconfig as string | undefined,
    hostnameOverride: values.hostnameOverride as string | undefined,
    nodeIP: values.nodeIp ? parseListFlag(values.nodeIp as string) : [],
    rootDir: values.rootDir as string,
    nodeLabels: values.nodeLabels ? parseMapFlag('node-labels', values.nodeLabels as string) : {},
    v: parseIntFlag('v', String(values.v ?? '0')),
  };

  let config: KubeletConfiguration;
  let unknownFields: string[] = [];
  if (flags.config) {
    const parsed = await loadKubeletConfigurationFile(flags.config);
    config = parsed.config;
    unknownFields = parsed.unknownFields;
  } else {
    config = defaultKubeletConfiguration();
  }

  const overrides: Overrides = {};
  for (const { flag, field, parse } of configFlags) {
    const value = values[camel(flag)];
    if (typeof value === 'string') setField(overrides, config, field, parse ? parse(flag, value) : value);
  }
  for (const { flag, field } of boolFlags) {
    const value = values[camel(flag)];
    if (value !== undefined) setField(overrides, config, field, parseBoolFlag(flag, value));
  }
  try {
    config = applyConfigurationOverrides(config, overrides as KubeletConfigurationInput);
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
