import { isIP } from 'node:net';
// From /config and /errors, not the root: the root loads the kubelet's whole engine, which the
// command line does not need before it is parsed and checked (the first log line waits for it).
import {
  applyV1beta1ZeroDefaults,
  type KubeletConfiguration,
  kubeletConfigurationApiVersion,
  kubeletConfigurationKind,
  mergeConfigurationDropIns,
  parseKubeletConfiguration,
  readKubeletConfigurationFile,
} from '@nodeagent/kubelet/config';
import { InvalidConfigError } from '@nodeagent/kubelet/errors';
import { type GivenFlags, splitCommandLine } from './command-line';
import { CommandLineError, UnreadableFileError } from './command-line-errors';
import { parseKubeletFlagValue, parseListFlag } from './flag-values';
import { KUBELET_FLAGS, type KubeletFlagSpec } from './kubelet-flag-table';

/** Settings that only exist as flags (upstream KubeletFlags), not in KubeletConfiguration. */
export interface KubeletFlags {
  config?: string;
  /** --config-dir: drop-in `*.conf` files merged over --config in lexical order. */
  configDir?: string;
  /** --cloud-provider: "" or "external" (upstream has no in-tree providers). */
  cloudProvider: '' | 'external';
  /** --pod-infra-container-image: removed upstream in v1.35; the runtime's sandbox image is used. */
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
  /** Log verbosity (-v); also in config.logging.verbosity when given. */
  v: number;
  /** --image-credential-provider-config (with the bin dir: upstream's exec credential plugins). */
  imageCredentialProviderConfig?: string;
  /** --image-credential-provider-bin-dir. */
  imageCredentialProviderBinDir?: string;
}

/** A flag given on the command line that this kubelet accepts but does nothing with. */
export interface NoEffectFlag {
  flag: string;
  value: unknown;
  message: string;
}

export interface ResolvedKubeletOptions {
  flags: KubeletFlags;
  config: KubeletConfiguration;
  /** Fields in the config file this kubelet does not know (reported as warnings). */
  unknownFields: string[];
  /** pflag's `Flag --X has been deprecated, <message>` lines for the deprecated flags given. */
  deprecations: string[];
  /** Flags given that have no effect here (cAdvisor's, lock files…), one warning each. */
  noEffectFlags: NoEffectFlag[];
}

/** The command line parsed: each given flag's value, converted by its type. */
export interface ParsedCommandLine {
  given: GivenFlags;
  values: Map<string, unknown>;
}

type ConfigObject = Record<string, unknown>;

/**
 * Parses argv (without node and script) as pflag would. One problem is thrown as itself (an
 * InvalidConfigError or UnknownFlagError naming the flag); several together in a CommandLineError.
 */
export function parseKubeletCommandLine(argv: readonly string[]): ParsedCommandLine {
  const { given, errors } = splitCommandLine(argv);
  const values = new Map<string, unknown>();
  for (const [spec, raws] of given) {
    try {
      values.set(spec.flag, parseKubeletFlagValue(spec, raws));
    } catch (error) {
      if (!(error instanceof InvalidConfigError)) throw error;
      errors.push(error);
    }
  }
  errors.push(...flagRuleErrors(values));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new CommandLineError(errors);
  return { given, values };
}

/** Rules on KubeletFlags values (upstream ValidateKubeletFlags, node IP parsing, cloud provider). */
function flagRuleErrors(values: Map<string, unknown>): Error[] {
  const errors: Error[] = [];
  const nodeIP = values.get('node-ip') as string | undefined;
  if (nodeIP !== undefined && nodeIP !== '') {
    const ips = parseListFlag(nodeIP);
    const bad = ips.find((ip) => isIP(ip) === 0);
    if (bad !== undefined)
      errors.push(
        new InvalidConfigError(
          '--node-ip',
          nodeIP,
          ips.length === 1 ? 'not an IP address' : `${JSON.stringify(bad)} is not an IP address`,
        ),
      );
    else if (ips.length > 2 || (ips.length === 2 && isIP(ips[0]!) === isIP(ips[1]!)))
      errors.push(
        new InvalidConfigError(
          '--node-ip',
          nodeIP,
          'must contain either a single IP or a dual-stack pair of IPs',
        ),
      );
  }
  const cloudProvider = values.get('cloud-provider');
  if (cloudProvider !== undefined && cloudProvider !== '' && cloudProvider !== 'external')
    errors.push(
      new InvalidConfigError(
        '--cloud-provider',
        cloudProvider,
        'only "external" is supported: in-tree cloud providers were removed upstream',
      ),
    );
  if (values.get('bootstrap-kubeconfig') && !values.get('kubeconfig'))
    errors.push(
      new InvalidConfigError(
        '--bootstrap-kubeconfig',
        values.get('bootstrap-kubeconfig'),
        'needs --kubeconfig: the bootstrapped kubeconfig is written there',
      ),
    );
  return errors;
}

/**
 * What upstream's NewKubeletConfiguration starts from without --config: v1beta1 defaults plus
 * applyLegacyDefaults, which keeps the command line's historic defaults (anonymous auth on,
 * no token webhook, AlwaysAllow, read-only port 10255).
 */
function legacyDefaultsBase(): ConfigObject {
  return {
    apiVersion: kubeletConfigurationApiVersion,
    kind: kubeletConfigurationKind,
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    readOnlyPort: 10255,
  };
}

/** Sets a dotted field in the (decoded) configuration object, keeping its siblings. */
function setField(target: ConfigObject, field: string, value: unknown): void {
  const path = field.split('.');
  let at = target;
  for (const key of path.slice(0, -1)) {
    const next = at[key];
    at[key] = next !== null && typeof next === 'object' && !Array.isArray(next) ? { ...next } : {};
    at = at[key] as ConfigObject;
  }
  at[path[path.length - 1]!] = value;
}

async function readConfigFile(path: string): Promise<ConfigObject> {
  try {
    return await readKubeletConfigurationFile(path);
  } catch (error) {
    if (error instanceof InvalidConfigError) throw error;
    throw new UnreadableFileError(
      '--config',
      path,
      error,
      'give the path of a KubeletConfiguration file, or omit --config to run with the built-in defaults',
    );
  }
}

async function mergeDropIns(base: ConfigObject, dir: string): Promise<ConfigObject> {
  try {
    return await mergeConfigurationDropIns(base, dir);
  } catch (error) {
    if (error instanceof InvalidConfigError) throw error;
    throw new UnreadableFileError('--config-dir', dir, error, 'give a readable directory of *.conf drop-ins');
  }
}

/** The flags (set on the command line) whose field is `field` or contains it. */
function flagForField(given: Map<string, KubeletFlagSpec>, field: string): KubeletFlagSpec | undefined {
  for (const spec of given.values())
    if (
      spec.field !== undefined &&
      (field === spec.field || field.startsWith(`${spec.field}[`) || field.startsWith(`${spec.field}.`))
    )
      return spec;
  return undefined;
}

/**
 * Parses argv, loads --config and the --config-dir drop-ins, applies the flags given on top
 * (flags win, as upstream's kubeletConfigFlagPrecedence), then defaults and validates once.
 */
export async function resolveKubeletOptions(
  argv: string[],
  _options: { quiet?: boolean } = {},
): Promise<ResolvedKubeletOptions> {
  const { given, values } = parseKubeletCommandLine(argv);
  const flags: KubeletFlags = {
    config: values.get('config') as string | undefined,
    configDir: values.get('config-dir') as string | undefined,
    cloudProvider: ((values.get('cloud-provider') as string | undefined) ?? '') as '' | 'external',
    podInfraContainerImage: values.get('pod-infra-container-image') as string | undefined,
    kubeconfig: values.get('kubeconfig') as string | undefined,
    bootstrapKubeconfig: values.get('bootstrap-kubeconfig') as string | undefined,
    certDir: (values.get('cert-dir') as string | undefined) ?? '/var/lib/kubelet/pki',
    hostnameOverride: values.get('hostname-override') as string | undefined,
    nodeIP: parseListFlag((values.get('node-ip') as string | undefined) ?? ''),
    rootDir: (values.get('root-dir') as string | undefined) ?? '/var/lib/kubelet',
    nodeLabels: (values.get('node-labels') as Record<string, string> | undefined) ?? {},
    v: (values.get('v') as number | undefined) ?? 0,
    imageCredentialProviderConfig: values.get('image-credential-provider-config') as string | undefined,
    imageCredentialProviderBinDir: values.get('image-credential-provider-bin-dir') as string | undefined,
  };

  const deprecations: string[] = [];
  const noEffectFlags: NoEffectFlag[] = [];
  const givenConfigFlags = new Map<string, KubeletFlagSpec>();
  for (const spec of given.keys()) {
    if (spec.deprecated) deprecations.push(`Flag --${spec.flag} has been deprecated, ${spec.deprecated}`);
    if (spec.noEffect)
      noEffectFlags.push({
        flag: `--${spec.flag}`,
        value: values.get(spec.flag),
        message: `--${spec.flag} has no effect: ${spec.noEffect}`,
      });
    if (spec.field) givenConfigFlags.set(spec.flag, spec);
  }

  let raw = flags.config ? await readConfigFile(flags.config) : legacyDefaultsBase();
  if (flags.configDir) raw = await mergeDropIns(raw, flags.configDir);
  // Upstream's order: file and drop-ins decoded and defaulted, flags on top, then validation once,
  // so kubeadm's zero values and its flags make a valid configuration.
  const overrides = applyV1beta1ZeroDefaults(raw);
  for (const spec of givenConfigFlags.values()) setField(overrides, spec.field!, values.get(spec.flag));
  try {
    const { config, unknownFields } = parseKubeletConfiguration(overrides, { zeroValueDefaults: false });
    return { flags, config, unknownFields, deprecations, noEffectFlags };
  } catch (error) {
    if (!(error instanceof InvalidConfigError)) throw error;
    // A value a flag set is the flag's problem: name the flag, as the operator typed it.
    const causes = (error.causes.length > 0 ? error.causes : [error]).map((cause) => {
      const spec = flagForField(givenConfigFlags, cause.field);
      return spec ? new InvalidConfigError(`--${spec.flag}`, cause.value, cause.reason) : cause;
    });
    const first = causes[0]!;
    const renamed = new InvalidConfigError(first.field, first.value, first.reason, causes);
    if (causes.length > 1) renamed.message = causes.map((cause) => cause.message).join('; ');
    throw renamed;
  }
}

/** The flags of `--help`, in upstream's order (alphabetical), each with its type and default. */
export function kubeletHelpText(): string {
  const rows = KUBELET_FLAGS.map((spec) => {
    const names = spec.short ? `-${spec.short}, --${spec.flag}` : `    --${spec.flag}`;
    const type = spec.type === 'bool' ? '' : ` ${spec.type}`;
    return { left: `  ${names}${type}`, spec };
  }).sort((a, b) => a.spec.flag.localeCompare(b.spec.flag));
  const width = Math.max(...rows.map((row) => row.left.length)) + 3;
  const lines = rows.map(({ left, spec }) => {
    let help = spec.help;
    if (spec.default !== '') help += ` (default ${spec.default})`;
    if (spec.deprecated) help += ` (DEPRECATED: ${spec.deprecated})`;
    if (spec.noEffect) help += ` [no effect here: ${spec.noEffect}]`;
    if (spec.extension) help += ' [nodeagent]';
    return `${left.padEnd(width)}${help}`;
  });
  return [
    'The kubelet is the primary "node agent" that runs on each node: it runs the pods assigned to',
    'its node on a CRI container runtime (nodeagent: a TypeScript kubelet following upstream v1.36).',
    '',
    'Usage: nodeagent-kubelet [flags]',
    '',
    'Flags:',
    ...lines,
    '',
  ].join('\n');
}
