import { isIP } from 'node:net';
import { parseDuration, valueAtPath } from '@nodeagent/primitives';
import {
  FEATURE_GATES_V1_36,
  isInvalidFeatureGateError,
  resolveFeatureGates,
} from '@nodeagent/primitives/feature-gates';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InvalidConfigurationError, InvalidFieldError } from '../errors';
import { setKubeProxyConfigurationDefaults } from './defaults';

/** The `apiVersion` a kube-proxy configuration file must carry (the only version upstream serves). */
export const KUBE_PROXY_CONFIG_API_VERSION = 'kubeproxy.config.k8s.io/v1alpha1';
/** The `kind` a kube-proxy configuration file must carry. */
export const KUBE_PROXY_CONFIG_KIND = 'KubeProxyConfiguration';

/**
 * Proxy modes a Linux kube-proxy accepts; '' means the platform default (iptables).
 * 'userspace' is upstream's pre-1.26 mode, kept here for rootless nodes and sandboxes.
 */
export const PROXY_MODES = ['', 'iptables', 'ipvs', 'nftables', 'userspace'] as const;
/** A `mode` value: one of PROXY_MODES (`''` = iptables on Linux). */
export type ProxyMode = (typeof PROXY_MODES)[number];

/**
 * `detectLocalMode` values: how a proxier tells traffic from local pods apart (`''` = ClusterCIDR,
 * upstream's default; BridgeInterface and InterfaceNamePrefix need the matching `detectLocal` field).
 */
export const LOCAL_MODES = ['', 'ClusterCIDR', 'NodeCIDR', 'BridgeInterface', 'InterfaceNamePrefix'] as const;
/** A `detectLocalMode` value: one of LOCAL_MODES. */
export type LocalMode = (typeof LOCAL_MODES)[number];

/** The log formats component-base registers (`--logging-format`). */
export const LOG_FORMATS = ['text', 'json'] as const;
/** A `logging.format` value: one of LOG_FORMATS. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * `ipvs.scheduler` values validation accepts: the kernel's IPVS schedulers by their ipvsadm names
 * (`''` = `rr`, round robin, as upstream).
 */
export const IPVS_SCHEDULERS = ['', 'rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'mh'];

const duration = z.string();

// Field names and defaults follow kubeproxy.config.k8s.io/v1alpha1 (SetDefaults_KubeProxyConfiguration).
const clientConnectionSchema = z.strictObject({
  kubeconfig: z.string().default(''),
  acceptContentTypes: z.string().default(''),
  contentType: z.string().default('application/vnd.kubernetes.protobuf'),
  qps: z.number().default(5),
  burst: z.number().int().default(10),
});

const iptablesSchema = z.strictObject({
  masqueradeBit: z.number().int().nullable().default(14),
  masqueradeAll: z.boolean().default(false),
  localhostNodePorts: z.boolean().nullable().default(true),
  syncPeriod: duration.default('30s'),
  minSyncPeriod: duration.default('1s'),
});

const ipvsSchema = z.strictObject({
  syncPeriod: duration.default('30s'),
  minSyncPeriod: duration.default('0s'),
  scheduler: z.string().default(''),
  excludeCIDRs: z.array(z.string()).nullable().default([]),
  strictARP: z.boolean().default(false),
  tcpTimeout: duration.default('0s'),
  tcpFinTimeout: duration.default('0s'),
  udpTimeout: duration.default('0s'),
});

const nftablesSchema = z.strictObject({
  masqueradeBit: z.number().int().nullable().default(14),
  masqueradeAll: z.boolean().default(false),
  syncPeriod: duration.default('30s'),
  minSyncPeriod: duration.default('1s'),
});

const conntrackSchema = z.strictObject({
  maxPerCore: z
    .number()
    .int()
    .nullable()
    .default(32 * 1024),
  min: z
    .number()
    .int()
    .nullable()
    .default(128 * 1024),
  tcpEstablishedTimeout: duration.nullable().default('24h0m0s'),
  tcpCloseWaitTimeout: duration.nullable().default('1h0m0s'),
  tcpBeLiberal: z.boolean().default(false),
  udpTimeout: duration.default('0s'),
  udpStreamTimeout: duration.default('0s'),
});

// component-base's LoggingConfiguration (logging.format, flushFrequency, verbosity, vmodule, options).
const logFormatOptionsSchema = z.strictObject({
  infoBufferSize: z.union([z.string(), z.number()]).default('0'),
  splitStream: z.boolean().default(false),
});

const loggingSchema = z.strictObject({
  format: z.string().default('text'),
  /** TimeOrMetaDuration: a Go duration string, or an integer count of nanoseconds. */
  flushFrequency: z.union([z.string(), z.number()]).default('5s'),
  verbosity: z.number().int().min(0).default(0),
  vmodule: z
    .array(z.strictObject({ filePattern: z.string(), verbosity: z.number().int().min(0) }))
    .nullable()
    .default(null),
  options: z
    .strictObject({ text: logFormatOptionsSchema.prefault({}), json: logFormatOptionsSchema.prefault({}) })
    .prefault({}),
});

// Windows-only settings (kube-proxy's winkernel mode); a Linux proxy reads none of them.
const winkernelSchema = z.strictObject({
  networkName: z.string().default(''),
  sourceVip: z.string().default(''),
  enableDSR: z.boolean().default(false),
  rootHnsEndpointName: z.string().default(''),
  forwardHealthCheckVip: z.boolean().default(false),
});

const detectLocalSchema = z.strictObject({
  bridgeInterface: z.string().default(''),
  interfaceNamePrefix: z.string().default(''),
});

/**
 * The zod schema of a defaulted kubeproxy.config.k8s.io/v1alpha1 object: field types, and each
 * field's default for a key that is absent (run setKubeProxyConfigurationDefaults first for the
 * zero-value defaulting upstream's decoder does). Unknown keys are rejected. Types only: the
 * semantic checks are validateKubeProxyConfiguration's.
 */
export const kubeProxyConfigurationSchema = z.strictObject({
  apiVersion: z.literal(KUBE_PROXY_CONFIG_API_VERSION).default(KUBE_PROXY_CONFIG_API_VERSION),
  kind: z.literal(KUBE_PROXY_CONFIG_KIND).default(KUBE_PROXY_CONFIG_KIND),
  featureGates: z.record(z.string(), z.boolean()).default({}),
  clientConnection: clientConnectionSchema.prefault({}),
  logging: loggingSchema.prefault({}),
  hostnameOverride: z.string().default(''),
  bindAddress: z.string().default('0.0.0.0'),
  healthzBindAddress: z.string().default('0.0.0.0:10256'),
  metricsBindAddress: z.string().default('127.0.0.1:10249'),
  bindAddressHardFail: z.boolean().default(false),
  enableProfiling: z.boolean().default(false),
  showHiddenMetricsForVersion: z.string().default(''),
  mode: z.string().default(''),
  iptables: iptablesSchema.prefault({}),
  ipvs: ipvsSchema.prefault({}),
  nftables: nftablesSchema.prefault({}),
  winkernel: winkernelSchema.prefault({}),
  detectLocalMode: z.string().default(''),
  detectLocal: detectLocalSchema.prefault({}),
  clusterCIDR: z.string().default(''),
  nodePortAddresses: z.array(z.string()).nullable().default([]),
  oomScoreAdj: z.number().int().nullable().default(-999),
  conntrack: conntrackSchema.prefault({}),
  configSyncPeriod: duration.default('15m0s'),
  portRange: z.string().default(''),
  /** Windows only (the service control manager integration); omitted when false, as upstream's omitempty. */
  windowsRunAsService: z.boolean().optional(),
  /**
   * Our extension (not in upstream's v1alpha1): userspace mode listens on the Services' own
   * IPs and ports instead of programming REDIRECT rules, so it needs no kernel rules at all.
   */
  userspaceBindOnly: z.boolean().default(false),
});

/** The fully defaulted, validated configuration (durations stay Go duration strings, as in the file). */
export type KubeProxyConfiguration = z.output<typeof kubeProxyConfigurationSchema>;
/** What a configuration file may contain: every field optional. */
export type KubeProxyConfigurationInput = z.input<typeof kubeProxyConfigurationSchema>;

/** The proxy mode this configuration runs: upstream's empty `mode` means iptables on Linux. */
export function effectiveProxyMode(config: Pick<KubeProxyConfiguration, 'mode'>): string {
  return config.mode === '' ? 'iptables' : config.mode;
}

/** The upstream defaults. */
export function defaultKubeProxyConfiguration(): KubeProxyConfiguration {
  return parseKubeProxyConfiguration({});
}

/** Options of parseKubeProxyConfiguration. */
export interface ParseOptions {
  /**
   * Apply upstream's defaulting first (default true). False for an object that was defaulted
   * before flags were set on it, so a flag's empty value stays empty as upstream's does.
   */
  applyDefaults?: boolean;
}

/**
 * Applies defaults to a decoded configuration object and validates it.
 * Throws InvalidConfigurationError listing every problem at once, each once, by field and value:
 * the type errors, and the semantic checks of every field that has the right type.
 */
export function parseKubeProxyConfiguration(
  input: unknown,
  options: ParseOptions = {},
): KubeProxyConfiguration {
  const defaulted = options.applyDefaults === false ? input : setKubeProxyConfigurationDefaults(input);
  const result = kubeProxyConfigurationSchema.safeParse(defaulted);
  if (result.success) {
    const errors = validateKubeProxyConfiguration(result.data);
    if (errors.length > 0) throw new InvalidConfigurationError(errors);
    return result.data;
  }
  const typeErrors: InvalidFieldError[] = [];
  const badPaths: (string | number)[][] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    const field = path.map(String).join('.') || '(root)';
    if (issue.code === 'unrecognized_keys') {
      const prefix = field === '(root)' ? '' : `${field}.`;
      for (const key of issue.keys) {
        typeErrors.push(
          new InvalidFieldError(`${prefix}${key}`, valueAtPath(input, [...path, key]), 'unknown field'),
        );
        badPaths.push([...path, key]);
      }
      continue;
    }
    typeErrors.push(new InvalidFieldError(field, valueAtPath(input, issue.path), issue.message));
    badPaths.push(path);
  }
  // The semantic checks run on the object with each bad field put back to its default, so a bad
  // `mode` is reported together with a mistyped `iptables.syncPeriod`, not after it is fixed.
  const repaired = kubeProxyConfigurationSchema.safeParse(withoutPaths(defaulted, badPaths));
  const reported = typeErrors.map((e) => e.field);
  const semantic = repaired.success
    ? validateKubeProxyConfiguration(repaired.data).filter(
        (e) =>
          !reported.some((f) => e.field === f || e.field.startsWith(`${f}.`) || e.field.startsWith(`${f}[`)),
      )
    : [];
  throw new InvalidConfigurationError([...typeErrors, ...semantic]);
}

/** A copy of `obj` with each path's field removed (a path into a list removes the whole list). */
function withoutPaths(obj: unknown, paths: readonly (string | number)[][]): unknown {
  const copy = structuredClone(obj) as Record<string | number, unknown>;
  for (const path of paths) {
    const cut = path.findIndex((k) => typeof k === 'number');
    const keys = cut < 0 ? path : path.slice(0, cut);
    if (keys.length === 0) continue;
    let cur: unknown = copy;
    for (const k of keys.slice(0, -1)) cur = (cur as Record<string | number, unknown> | undefined)?.[k];
    if (cur && typeof cur === 'object') delete (cur as Record<string | number, unknown>)[keys.at(-1)!];
  }
  return copy;
}

/** Parses a KubeProxyConfiguration YAML (or JSON) document. */
export function loadKubeProxyConfiguration(text: string): KubeProxyConfiguration {
  let decoded: unknown;
  try {
    decoded = parseYaml(text);
  } catch (err) {
    throw new InvalidConfigurationError([
      new InvalidFieldError('(file)', '(YAML)', `not YAML: ${(err as Error).message.split('\n')[0]}`),
    ]);
  }
  return parseKubeProxyConfiguration(decoded);
}

/** The semantic checks upstream's validation.go makes, returned rather than thrown. */
export function validateKubeProxyConfiguration(c: KubeProxyConfiguration): InvalidFieldError[] {
  // Upstream's Options.Complete applies featureGates before Validate runs and fails alone.
  const gateError = featureGateError(c.featureGates);
  if (gateError) return [gateError];
  const errs: InvalidFieldError[] = [];
  const checks: FieldChecks = {
    errs,
    check: (ok, field, value, reason) => {
      if (!ok) errs.push(new InvalidFieldError(field, value, reason));
    },
    durationMs: (field, value) => {
      try {
        return parseDuration(value, field);
      } catch {
        errs.push(new InvalidFieldError(field, value, 'not a duration (e.g. "1s", "1m30s")'));
        return undefined;
      }
    },
  };
  // In upstream's order, so the errors come out in the same order.
  validateAddressesAndMode(c, checks);
  validateSyncPeriods(c, checks);
  validateIpvs(c, checks);
  validateConntrack(c, checks);
  validateClientAndLogging(c, checks);
  validateNetworkRanges(c, checks);
  validateDetectLocal(c, checks);
  return errs;
}

/**
 * featureGates against the v1.36 gate table (component-base SetFromMap): an unknown gate, or a
 * locked one set away from its default, with upstream's reason (`unrecognized feature gate: X`).
 */
function featureGateError(featureGates: Readonly<Record<string, boolean>>): InvalidFieldError | undefined {
  try {
    resolveFeatureGates(featureGates, FEATURE_GATES_V1_36);
    return undefined;
  } catch (error) {
    if (!isInvalidFeatureGateError(error)) throw error;
    return new InvalidFieldError('featureGates', featureGates, error.reason);
  }
}

/** Where the validation steps put their errors, and the two ways they make one. */
interface FieldChecks {
  readonly errs: InvalidFieldError[];
  /** Records an error for `field` unless `ok`. */
  check(ok: boolean, field: string, value: unknown, reason: string): void;
  /** The duration's milliseconds, or undefined (and an error recorded) when it does not parse. */
  durationMs(field: string, value: string): number | undefined;
}

/** bindAddress, the healthz and metrics host:ports, and mode. */
function validateAddressesAndMode(c: KubeProxyConfiguration, { errs, check }: FieldChecks): void {
  check(isIP(c.bindAddress) !== 0, 'bindAddress', c.bindAddress, 'must be a valid IP address');
  checkHostPort(errs, 'healthzBindAddress', c.healthzBindAddress);
  checkHostPort(errs, 'metricsBindAddress', c.metricsBindAddress);
  check(
    (PROXY_MODES as readonly string[]).includes(c.mode),
    'mode',
    c.mode,
    `must be one of ${PROXY_MODES.filter(Boolean).join(', ')}`,
  );
}

/** The iptables and nftables sections: masqueradeBit and the sync periods. */
function validateSyncPeriods(c: KubeProxyConfiguration, { check, durationMs }: FieldChecks): void {
  for (const section of ['iptables', 'nftables'] as const) {
    const s = c[section];
    if (s.masqueradeBit !== null) {
      check(
        s.masqueradeBit >= 0 && s.masqueradeBit <= 31,
        `${section}.masqueradeBit`,
        s.masqueradeBit,
        'must be within the range [0, 31]',
      );
    }
    const sync = durationMs(`${section}.syncPeriod`, s.syncPeriod);
    const minSync = durationMs(`${section}.minSyncPeriod`, s.minSyncPeriod);
    if (sync !== undefined) check(sync > 0, `${section}.syncPeriod`, s.syncPeriod, 'must be greater than 0');
    if (minSync !== undefined) {
      check(minSync >= 0, `${section}.minSyncPeriod`, s.minSyncPeriod, 'must be greater than or equal to 0');
    }
  }
}

/** The ipvs section: its sync periods (in ipvs mode), scheduler, excludeCIDRs and timeouts. */
function validateIpvs(c: KubeProxyConfiguration, { check, durationMs }: FieldChecks): void {
  const ipvsSync = durationMs('ipvs.syncPeriod', c.ipvs.syncPeriod);
  const ipvsMin = durationMs('ipvs.minSyncPeriod', c.ipvs.minSyncPeriod);
  if (c.mode === 'ipvs') {
    if (ipvsSync !== undefined)
      check(ipvsSync > 0, 'ipvs.syncPeriod', c.ipvs.syncPeriod, 'must be greater than 0');
    if (ipvsMin !== undefined) {
      check(ipvsMin >= 0, 'ipvs.minSyncPeriod', c.ipvs.minSyncPeriod, 'must be greater than or equal to 0');
    }
    if (ipvsSync !== undefined && ipvsMin !== undefined) {
      check(
        ipvsMin <= ipvsSync,
        'ipvs.minSyncPeriod',
        c.ipvs.minSyncPeriod,
        'must be less than or equal to ipvs.syncPeriod',
      );
    }
  }
  check(
    IPVS_SCHEDULERS.includes(c.ipvs.scheduler),
    'ipvs.scheduler',
    c.ipvs.scheduler,
    'unknown IPVS scheduler',
  );
  for (const [i, cidr] of (c.ipvs.excludeCIDRs ?? []).entries()) {
    check(isCidr(cidr), `ipvs.excludeCIDRs[${i}]`, cidr, 'must be a valid CIDR');
  }
  for (const f of ['tcpTimeout', 'tcpFinTimeout', 'udpTimeout'] as const) {
    const v = durationMs(`ipvs.${f}`, c.ipvs[f]);
    if (v !== undefined) check(v >= 0, `ipvs.${f}`, c.ipvs[f], 'must be greater than or equal to 0');
  }
}

/** The conntrack section: limits and timeouts, none negative. */
function validateConntrack(c: KubeProxyConfiguration, { check, durationMs }: FieldChecks): void {
  const ct = c.conntrack;
  if (ct.maxPerCore !== null) {
    check(ct.maxPerCore >= 0, 'conntrack.maxPerCore', ct.maxPerCore, 'must be greater than or equal to 0');
  }
  if (ct.min !== null) check(ct.min >= 0, 'conntrack.min', ct.min, 'must be greater than or equal to 0');
  for (const f of [
    'tcpEstablishedTimeout',
    'tcpCloseWaitTimeout',
    'udpTimeout',
    'udpStreamTimeout',
  ] as const) {
    const raw = ct[f];
    if (raw === null) continue;
    const v = durationMs(`conntrack.${f}`, raw);
    if (v !== undefined) check(v >= 0, `conntrack.${f}`, raw, 'must be greater than or equal to 0');
  }
}

/** clientConnection, logging, configSyncPeriod and oomScoreAdj. */
function validateClientAndLogging(c: KubeProxyConfiguration, { check, durationMs }: FieldChecks): void {
  // validateClientConnectionConfiguration (qps may be negative: no rate limit, as client-go).
  check(
    c.clientConnection.burst >= 0,
    'clientConnection.burst',
    c.clientConnection.burst,
    'must be greater than or equal to 0',
  );

  // component-base logsapi.ValidateAndApply: the registered formats are text and json.
  check(
    (LOG_FORMATS as readonly string[]).includes(c.logging.format),
    'logging.format',
    c.logging.format,
    'Unsupported log format',
  );
  if (typeof c.logging.flushFrequency === 'string')
    durationMs('logging.flushFrequency', c.logging.flushFrequency);
  else
    check(c.logging.flushFrequency >= 0, 'logging.flushFrequency', c.logging.flushFrequency, 'must be >= 0');

  const configSync = durationMs('configSyncPeriod', c.configSyncPeriod);
  if (configSync !== undefined) {
    check(configSync > 0, 'configSyncPeriod', c.configSyncPeriod, 'must be greater than 0');
  }
  if (c.oomScoreAdj !== null) {
    check(
      c.oomScoreAdj >= -1000 && c.oomScoreAdj <= 1000,
      'oomScoreAdj',
      c.oomScoreAdj,
      'must be within the range [-1000, 1000]',
    );
  }
}

/** clusterCIDR (at most one per family) and nodePortAddresses (CIDRs, or "primary" alone). */
function validateNetworkRanges(c: KubeProxyConfiguration, { check }: FieldChecks): void {
  if (c.clusterCIDR !== '') {
    const cidrs = c.clusterCIDR.split(',').map((s) => s.trim());
    for (const cidr of cidrs)
      check(isCidr(cidr), 'clusterCIDR', c.clusterCIDR, `${JSON.stringify(cidr)} is not a CIDR`);
    const v4 = cidrs.filter((s) => isCidr(s) && isIP(s.split('/')[0]!) === 4).length;
    const v6 = cidrs.filter((s) => isCidr(s) && isIP(s.split('/')[0]!) === 6).length;
    check(v4 <= 1 && v6 <= 1, 'clusterCIDR', c.clusterCIDR, 'at most one CIDR per IP family');
  }

  for (const [i, addr] of (c.nodePortAddresses ?? []).entries()) {
    check(addr === 'primary' || isCidr(addr), `nodePortAddresses[${i}]`, addr, 'must be a CIDR or "primary"');
  }
  if ((c.nodePortAddresses ?? []).includes('primary')) {
    check(
      (c.nodePortAddresses ?? []).length === 1,
      'nodePortAddresses',
      c.nodePortAddresses,
      '"primary" cannot be combined with CIDRs',
    );
  }
}

/** detectLocalMode with the field its mode needs, and portRange. */
function validateDetectLocal(c: KubeProxyConfiguration, { check }: FieldChecks): void {
  check(
    (LOCAL_MODES as readonly string[]).includes(c.detectLocalMode),
    'detectLocalMode',
    c.detectLocalMode,
    `must be one of ${LOCAL_MODES.filter(Boolean).join(', ')}`,
  );
  if (c.detectLocalMode === 'BridgeInterface') {
    check(
      c.detectLocal.bridgeInterface !== '',
      'detectLocal.bridgeInterface',
      c.detectLocal.bridgeInterface,
      'required when detectLocalMode is BridgeInterface',
    );
  }
  if (c.detectLocalMode === 'InterfaceNamePrefix') {
    check(
      c.detectLocal.interfaceNamePrefix !== '',
      'detectLocal.interfaceNamePrefix',
      c.detectLocal.interfaceNamePrefix,
      'required when detectLocalMode is InterfaceNamePrefix',
    );
  }
  if (c.portRange !== '') {
    check(
      /^\d+(?:[-+]\d+)?$/.test(c.portRange),
      'portRange',
      c.portRange,
      'must be "begin-end" or "begin+offset"',
    );
  }
}

function checkHostPort(errs: InvalidFieldError[], field: string, value: string): void {
  if (value === '') return; // empty disables the server, as upstream
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  if (!m) {
    errs.push(new InvalidFieldError(field, value, 'must be IP:port'));
    return;
  }
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (isIP(host) === 0) errs.push(new InvalidFieldError(field, value, 'host must be a valid IP address'));
  if (port < 1 || port > 65535) errs.push(new InvalidFieldError(field, value, 'port must be in 1-65535'));
}

/** True for "a.b.c.d/n" or "x::/n" with a prefix length in range for the family. */
export function isCidr(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return false;
  const family = isIP(value.slice(0, slash));
  const bitsText = value.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(bitsText)) return false;
  return Number(bitsText) <= (family === 4 ? 32 : 128);
}
