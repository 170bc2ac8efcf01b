import { hostname } from 'node:os';
import {
  checkSettingSupport,
  effectiveProxyMode,
  formatSettingProblem,
  type KubeProxyConfiguration,
  UnsupportedSettingsError,
} from '@nodeagent/kube-proxy';
import { listsAsProtobuf, type SettingProblem } from '@nodeagent/kube-proxy/config';
import { parseDuration } from '@nodeagent/primitives';
import type { Logger } from 'pino';
import { createProxyLogger } from './logging';
import { KUBERNETES_VERSION } from './version';

/** hostnameOverride, else the hostname, lower-cased, as upstream's node name. */
export function nodeNameFor(config: KubeProxyConfiguration): string {
  return (config.hostnameOverride.trim() || hostname()).toLowerCase();
}

/**
 * Everything the daemon takes from the configuration besides what the proxiers' own
 * `*OptionsFromConfig` and the node set-up read: one place, so the settings-coverage test can
 * see that each field has an effect.
 */
export interface DaemonSettings {
  mode: string;
  nodeName: string;
  kubeconfigPath: string;
  /** clientConnection.qps/burst; qps < 0 turns rate limiting off, as in client-go. */
  api: { qps: number; burst: number };
  /** clientConnection.contentType/acceptContentTypes: Services and EndpointSlices are listed and watched as protobuf. */
  listsAsProtobuf: boolean;
  healthzBindAddress: string;
  metricsBindAddress: string;
  bindAddressHardFail: boolean;
  syncPeriodMs: number;
  minSyncPeriodMs: number;
  oomScoreAdj: number | null;
  profiling: boolean;
  /** Node discovery: a bindAddress overrides the primary IP; NodeCIDR waits for pod CIDRs. */
  bindAddress: string;
  waitForPodCIDRs: boolean;
  userspaceBindOnly: boolean;
}

export function daemonSettings(config: KubeProxyConfiguration): DaemonSettings {
  const mode = effectiveProxyMode(config);
  // Userspace mode uses the iptables periods, as upstream's did.
  const periods = mode === 'nftables' ? config.nftables : mode === 'ipvs' ? config.ipvs : config.iptables;
  return {
    mode,
    nodeName: nodeNameFor(config),
    kubeconfigPath: config.clientConnection.kubeconfig,
    api: { qps: config.clientConnection.qps, burst: config.clientConnection.burst },
    listsAsProtobuf: listsAsProtobuf(config.clientConnection),
    healthzBindAddress: config.healthzBindAddress,
    metricsBindAddress: config.metricsBindAddress,
    bindAddressHardFail: config.bindAddressHardFail,
    syncPeriodMs: parseDuration(periods.syncPeriod, `${mode}.syncPeriod`),
    minSyncPeriodMs: parseDuration(periods.minSyncPeriod, `${mode}.minSyncPeriod`),
    oomScoreAdj: config.oomScoreAdj,
    profiling: config.enableProfiling,
    bindAddress: config.bindAddress,
    waitForPodCIDRs: config.detectLocalMode === 'NodeCIDR',
    userspaceBindOnly: mode === 'userspace' && config.userspaceBindOnly,
  };
}

/** The daemon's logger: logging.format (text or json) at logging.verbosity. */
export function daemonLogger(
  config: KubeProxyConfiguration,
  write?: (line: string) => void,
  writeInfo?: (line: string) => void,
): Logger {
  const { format, verbosity, options } = config.logging;
  // Both formats' settings are read; the running format's applies.
  const splitStream = { text: options.text.splitStream, json: options.json.splitStream };
  return createProxyLogger({
    format,
    verbosity,
    write,
    splitStream: format === 'json' ? splitStream.json : splitStream.text,
    writeInfo,
  });
}

/**
 * The start-up verdict on settings this proxy cannot honour: refused ones throw
 * UnsupportedSettingsError (every one named), the others are logged once as warnings.
 */
export function checkSettings(config: KubeProxyConfiguration, log: Logger): SettingProblem[] {
  const problems = checkSettingSupport(config, { kubernetesVersion: KUBERNETES_VERSION });
  const refused = problems.filter((p) => p.severity === 'refuse');
  if (refused.length > 0) throw new UnsupportedSettingsError(refused);
  for (const p of problems) log.warn({ field: p.field, value: p.value }, formatSettingProblem(p));
  return problems;
}
