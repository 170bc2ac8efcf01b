import {
  FEATURE_GATES_V1_36,
  HONOURED_FEATURE_GATES,
  resolveFeatureGates,
  unimplementedGateChanges,
} from '@nodeagent/primitives/feature-gates';
import { KubeProxyError } from '../errors';
import { PROTOBUF_CONTENT_TYPE } from './defaults';
import type { KubeProxyConfiguration } from './kube-proxy-configuration';
import { JSON_CONTENT_TYPE, mediaTypes } from './list-content-type';

// What this kube-proxy does with every KubeProxyConfiguration field: where it takes effect, or
// how a value it cannot honour is met at start — refused (the daemon exits naming the field)
// or warned about (logged once, naming the field, and the daemon runs without it). Nothing is
// accepted and silently ignored; apps/kube-proxy's settings-coverage test walks the schema and
// fails on a field missing here, on an `effect` field nothing reads, and on a check that does
// not name its field.

/** A configuration value this kube-proxy cannot honour, and whether the daemon refuses to start or warns. */
export interface SettingProblem {
  /** The field's dotted path (`ipvs.scheduler`). */
  field: string;
  /** The value found there. */
  value: unknown;
  /** `refuse`: the daemon exits with UnsupportedSettingsError; `warn`: it logs once and runs without the value. */
  severity: 'refuse' | 'warn';
  /** Why the value cannot be honoured. */
  reason: string;
}

/** How this kube-proxy supports one configuration field (an entry of SETTING_SUPPORT). */
export interface SettingSupport {
  /** Where the value takes effect; absent when no value but the default can. */
  effect?: string;
  /** Returns the problem with this configuration's value, if any (featureGates: one per warning). */
  check?: (
    c: KubeProxyConfiguration,
    ctx: SettingContext,
  ) => Omit<SettingProblem, 'field'> | readonly Omit<SettingProblem, 'field'>[] | undefined;
}

/** What a setting check needs besides the configuration itself. */
export interface SettingContext {
  /** The Kubernetes version this proxy reports ("v1.36.3"), for showHiddenMetricsForVersion. */
  kubernetesVersion: string;
}

/** Settings whose values the daemon refuses, each naming its field, value and why. */
export class UnsupportedSettingsError extends KubeProxyError {
  constructor(readonly problems: readonly SettingProblem[]) {
    super('UNSUPPORTED_SETTING', problems.map(formatSettingProblem).join('; '));
  }
}

/** One problem as a log or error line: `field: <value as JSON>: reason`. */
export function formatSettingProblem(p: SettingProblem): string {
  return `${p.field}: ${JSON.stringify(p.value)}: ${p.reason}`;
}

const refuse = (value: unknown, reason: string) => ({ severity: 'refuse' as const, value, reason });
const warn = (value: unknown, reason: string) => ({ severity: 'warn' as const, value, reason });

/** Previous minor of a "major.minor.patch" version: "1.36.3" → "1.35". */
export function previousMinorVersion(version: string): string {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return `${major}.${(minor ?? 1) - 1}`;
}

const winkernel = (key: keyof KubeProxyConfiguration['winkernel']): SettingSupport => ({
  check: (c) =>
    c.winkernel[key] === '' || c.winkernel[key] === false
      ? undefined
      : warn(c.winkernel[key], 'Windows-only (winkernel mode); a Linux kube-proxy does not use it'),
});

const logBuffer = (format: 'text' | 'json'): SettingSupport => ({
  check: (c) => {
    const size = c.logging.options[format].infoBufferSize;
    return size === '0' || size === 0
      ? undefined
      : warn(size, 'log lines are written unbuffered; there is no info buffer to size');
  },
});

/**
 * Every KubeProxyConfiguration field by dotted path: where its value takes effect, and the check
 * that finds a value this proxy refuses or only warns about. checkSettingSupport runs them all.
 */
export const SETTING_SUPPORT: Readonly<Record<string, SettingSupport>> = {
  apiVersion: { effect: 'schema: only kubeproxy.config.k8s.io/v1alpha1' },
  kind: { effect: 'schema: only KubeProxyConfiguration' },
  featureGates: {
    // Unknown and locked gates were refused by validation (upstream's Options.Complete).
    check: (c) => featureGateWarnings(c.featureGates),
  },
  'clientConnection.kubeconfig': { effect: 'the kubeconfig every API request uses' },
  'clientConnection.acceptContentTypes': {
    effect:
      'the Accept header of the Service and EndpointSlice lists and watches (protobuf when it names it)',
    check: (c) => {
      const types = mediaTypes(c.clientConnection.acceptContentTypes);
      if (types.length === 0 || types.includes(JSON_CONTENT_TYPE)) return undefined;
      if (types.includes(PROTOBUF_CONTENT_TYPE)) {
        return warn(
          c.clientConnection.acceptContentTypes,
          `the own Node is still requested as ${JSON_CONTENT_TYPE}: its protobuf form is not decoded`,
        );
      }
      return refuse(
        c.clientConnection.acceptContentTypes,
        `must name ${JSON_CONTENT_TYPE} or ${PROTOBUF_CONTENT_TYPE}: responses are decoded from those only`,
      );
    },
  },
  'clientConnection.contentType': {
    effect:
      'the Service and EndpointSlice lists and watches ask for protobuf when it names it (and acceptContentTypes is empty)',
    check: (c) => {
      const type = c.clientConnection.contentType;
      if (type === JSON_CONTENT_TYPE || type === PROTOBUF_CONTENT_TYPE) return undefined;
      return refuse(type, `unsupported content type: use ${JSON_CONTENT_TYPE} or ${PROTOBUF_CONTENT_TYPE}`);
    },
  },
  'clientConnection.qps': { effect: 'token bucket before every API request' },
  'clientConnection.burst': { effect: 'token bucket before every API request' },
  'logging.format': { effect: 'text (klog header) or json log lines' },
  'logging.verbosity': { effect: 'log level: info, debug from 4, trace from 6' },
  'logging.flushFrequency': {
    check: (c) =>
      c.logging.flushFrequency === '5s'
        ? undefined
        : warn(c.logging.flushFrequency, 'log lines are written unbuffered; there is nothing to flush'),
  },
  'logging.vmodule': {
    // Warned, not refused: a drop-in must start with upstream's command lines (--vmodule=…).
    check: (c) =>
      (c.logging.vmodule ?? []).length === 0
        ? undefined
        : warn(
            c.logging.vmodule,
            'per-file verbosity has no effect here (there are no Go source files); -v applies',
          ),
  },
  'logging.options.text.infoBufferSize': logBuffer('text'),
  'logging.options.text.splitStream': { effect: 'text format: info lines to stdout, errors to stderr' },
  'logging.options.json.infoBufferSize': logBuffer('json'),
  'logging.options.json.splitStream': { effect: 'json format: info lines to stdout, errors to stderr' },
  hostnameOverride: { effect: 'the node name' },
  bindAddress: { effect: "overrides the node's primary IP" },
  healthzBindAddress: { effect: 'healthz server address' },
  metricsBindAddress: { effect: 'metrics server address' },
  bindAddressHardFail: { effect: 'a server that cannot bind is fatal' },
  enableProfiling: { effect: '/debug/pprof/ on the metrics server' },
  showHiddenMetricsForVersion: {
    // Validated as upstream; no metric of this proxy is hidden, so every metric is always shown.
    check: (c, ctx) => {
      const v = c.showHiddenMetricsForVersion;
      const allowed = previousMinorVersion(ctx.kubernetesVersion);
      return v === '' || v === allowed
        ? undefined
        : refuse(
            v,
            `--show-hidden-metrics-for-version must be omitted or have the value '${allowed}'. Only the previous minor version is allowed`,
          );
    },
  },
  mode: { effect: 'the proxier' },
  'iptables.masqueradeBit': { effect: 'iptables mode: KUBE-MARK-MASQ bit' },
  'iptables.masqueradeAll': { effect: 'iptables and ipvs modes: masquerade all service traffic' },
  'iptables.localhostNodePorts': { effect: 'iptables mode: NodePorts on 127.0.0.1 and route_localnet' },
  'iptables.syncPeriod': { effect: 'iptables mode: full resync interval' },
  'iptables.minSyncPeriod': { effect: 'iptables mode: minimum interval between syncs' },
  'ipvs.syncPeriod': { effect: 'ipvs mode: full resync interval' },
  'ipvs.minSyncPeriod': { effect: 'ipvs mode: minimum interval between syncs' },
  'ipvs.scheduler': { effect: 'ipvs mode: virtual server scheduler' },
  'ipvs.excludeCIDRs': { effect: 'ipvs mode: addresses cleanup leaves alone' },
  'ipvs.strictARP': { effect: 'ipvs mode: arp_ignore/arp_announce' },
  'ipvs.tcpTimeout': { effect: 'ipvs mode: IPVS TCP timeout' },
  'ipvs.tcpFinTimeout': { effect: 'ipvs mode: IPVS TCP FIN timeout' },
  'ipvs.udpTimeout': { effect: 'ipvs mode: IPVS UDP timeout' },
  'nftables.masqueradeBit': { effect: 'nftables mode: masquerade mark bit' },
  'nftables.masqueradeAll': { effect: 'nftables mode: masquerade all service traffic' },
  'nftables.syncPeriod': { effect: 'nftables mode: full resync interval' },
  'nftables.minSyncPeriod': { effect: 'nftables mode: minimum interval between syncs' },
  'winkernel.networkName': winkernel('networkName'),
  'winkernel.sourceVip': winkernel('sourceVip'),
  'winkernel.enableDSR': winkernel('enableDSR'),
  'winkernel.rootHnsEndpointName': winkernel('rootHnsEndpointName'),
  'winkernel.forwardHealthCheckVip': winkernel('forwardHealthCheckVip'),
  detectLocalMode: { effect: 'local-traffic detection' },
  'detectLocal.bridgeInterface': { effect: 'detectLocalMode BridgeInterface' },
  'detectLocal.interfaceNamePrefix': { effect: 'detectLocalMode InterfaceNamePrefix' },
  clusterCIDR: { effect: 'ClusterCIDR local detection and the IP families' },
  nodePortAddresses: { effect: 'addresses NodePorts are served on' },
  oomScoreAdj: { effect: '/proc/self/oom_score_adj at start' },
  'conntrack.maxPerCore': { effect: 'nf_conntrack_max' },
  'conntrack.min': { effect: 'nf_conntrack_max floor' },
  'conntrack.tcpEstablishedTimeout': { effect: 'nf_conntrack_tcp_timeout_established' },
  'conntrack.tcpCloseWaitTimeout': { effect: 'nf_conntrack_tcp_timeout_close_wait' },
  'conntrack.tcpBeLiberal': { effect: 'nf_conntrack_tcp_be_liberal' },
  'conntrack.udpTimeout': { effect: 'nf_conntrack_udp_timeout' },
  'conntrack.udpStreamTimeout': { effect: 'nf_conntrack_udp_timeout_stream' },
  configSyncPeriod: {
    check: (c) =>
      c.configSyncPeriod === '15m0s'
        ? undefined
        : warn(
            c.configSyncPeriod,
            "the informers do not resync from their caches (a resync replays unchanged objects, which the proxy's change trackers drop)",
          ),
  },
  portRange: {
    effect: 'userspace mode: ports its proxies listen on',
    check: (c) =>
      c.portRange === '' || c.mode === 'userspace'
        ? undefined
        : warn(c.portRange, 'used only by userspace mode'),
  },
  userspaceBindOnly: { effect: "userspace mode: listen on the Services' own addresses" },
  windowsRunAsService: {
    check: (c) =>
      c.windowsRunAsService
        ? warn(true, 'Windows-only (service control manager integration); a Linux kube-proxy does not use it')
        : undefined,
  },
};

/**
 * Upstream's warning for each GA or deprecated gate set (component-base featuregate, v1.36
 * wording), then one naming every gate set away from its v1.36 default: this proxy reads none
 * (HONOURED_FEATURE_GATES['kube-proxy']) and behaves as with the defaults.
 */
function featureGateWarnings(
  featureGates: Readonly<Record<string, boolean>>,
): Omit<SettingProblem, 'field'>[] {
  const { enabled, warnings } = resolveFeatureGates(featureGates, FEATURE_GATES_V1_36);
  const out = warnings.map((w) => warn({ [w.gate]: w.value }, w.message));
  const ignored = unimplementedGateChanges(
    enabled,
    FEATURE_GATES_V1_36,
    HONOURED_FEATURE_GATES['kube-proxy'],
  );
  if (ignored.length > 0)
    out.push(
      warn(
        Object.fromEntries(ignored.map((gate) => [gate, enabled.get(gate)])),
        `these gates have no effect: this proxy does not implement them and behaves as Kubernetes v1.36 does with their defaults`,
      ),
    );
  return out;
}

/** Every problem with this configuration's values, in field order. */
export function checkSettingSupport(c: KubeProxyConfiguration, ctx: SettingContext): SettingProblem[] {
  const out: SettingProblem[] = [];
  for (const [field, support] of Object.entries(SETTING_SUPPORT)) {
    const found = support.check?.(c, ctx);
    for (const problem of Array.isArray(found) ? found : found ? [found] : [])
      out.push({ field, ...problem });
  }
  return out;
}
