import { isIP } from 'node:net';
import { parseDuration } from '@nodeagent/primitives';

/**
 * Upstream's defaulting of a decoded kubeproxy.config.k8s.io/v1alpha1 object
 * (SetDefaults_KubeProxyConfiguration plus component-base's recommended logging defaults):
 * zero, empty and null fields take the default value. kubeadm writes every field with its zero
 * value (`syncPeriod: 0s`, `healthzBindAddress: ""`, `conntrack.maxPerCore: null`, ...), so this
 * runs before validation, exactly as upstream's decoder defaults before it validates.
 *
 * Works on the plain decoded object; fields of the wrong type are left for validation to report.
 */

/** Port of `/healthz` and `/livez` when `healthzBindAddress` names none: upstream's ports.ProxyHealthzPort. */
export const PROXY_HEALTHZ_PORT = 10256;
/** Port of the metrics endpoint when `metricsBindAddress` names none: upstream's ports.ProxyStatusPort. */
export const PROXY_METRICS_PORT = 10249;
/** qos.KubeProxyOOMScoreAdj. */
export const KUBE_PROXY_OOM_SCORE_ADJ = -999;
/** `clientConnection.contentType`'s default, as upstream's (an empty value takes it). */
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A Go zero duration: absent, "", 0 or any duration string that parses to 0 ("0s", "0ms"). */
function isZeroDuration(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0) return true;
  if (typeof v !== 'string') return false;
  try {
    return parseDuration(v) === 0;
  } catch {
    return false;
  }
}

/** The sub-object at `key`, created when absent or null (as Go's zero struct), else left alone. */
function section(o: Obj, key: string): Obj | undefined {
  if (o[key] === undefined || o[key] === null) o[key] = {};
  return isObj(o[key]) ? o[key] : undefined;
}

function defaultDuration(o: Obj | undefined, key: string, value: string): void {
  if (o && isZeroDuration(o[key])) o[key] = value;
}

function defaultIfNull(o: Obj | undefined, key: string, value: unknown): void {
  if (o && (o[key] === undefined || o[key] === null)) o[key] = value;
}

function defaultIfZero(o: Obj | undefined, key: string, value: unknown): void {
  if (o && (o[key] === undefined || o[key] === null || o[key] === 0 || o[key] === '')) o[key] = value;
}

/**
 * proxyutil.AppendPortIfNeeded: "0.0.0.0" → "0.0.0.0:10256", "::" → "[::]:10256"; an
 * address that already has a port (or is not an IP) is returned unchanged for validation.
 */
export function appendPortIfNeeded(address: string, port: number): string {
  const family = isIP(address);
  if (family === 4) return `${address}:${port}`;
  if (family === 6) return `[${address}]:${port}`;
  return address;
}

/** Returns a defaulted copy of a decoded configuration object (the input is not modified). */
export function setKubeProxyConfigurationDefaults(input: unknown): unknown {
  if (input === undefined || input === null) input = {};
  if (!isObj(input)) return input;
  const c = structuredClone(input);

  defaultIfZero(c, 'bindAddress', '0.0.0.0');
  // getDefaultAddresses: an IPv4 (or unparsable) bindAddress gives IPv4 servers, IPv6 gives IPv6.
  const v6 = typeof c.bindAddress === 'string' && isIP(c.bindAddress) === 6;
  for (const [key, host, port] of [
    ['healthzBindAddress', v6 ? '[::]' : '0.0.0.0', PROXY_HEALTHZ_PORT],
    ['metricsBindAddress', v6 ? '[::1]' : '127.0.0.1', PROXY_METRICS_PORT],
  ] as const) {
    if (c[key] === undefined || c[key] === null || c[key] === '') c[key] = `${host}:${port}`;
    else if (typeof c[key] === 'string') c[key] = appendPortIfNeeded(c[key], port);
  }
  defaultIfNull(c, 'oomScoreAdj', KUBE_PROXY_OOM_SCORE_ADJ);

  const iptables = section(c, 'iptables');
  defaultIfNull(iptables, 'masqueradeBit', 14);
  defaultIfNull(iptables, 'localhostNodePorts', true);
  defaultDuration(iptables, 'syncPeriod', '30s');
  defaultDuration(iptables, 'minSyncPeriod', '1s');

  const nftables = section(c, 'nftables');
  defaultIfNull(nftables, 'masqueradeBit', 14);
  defaultDuration(nftables, 'syncPeriod', '30s');
  defaultDuration(nftables, 'minSyncPeriod', '1s');

  // ipvs.minSyncPeriod keeps 0s: upstream defaults only the ipvs syncPeriod.
  defaultDuration(section(c, 'ipvs'), 'syncPeriod', '30s');

  const conntrack = section(c, 'conntrack');
  defaultIfNull(conntrack, 'maxPerCore', 32 * 1024);
  defaultIfNull(conntrack, 'min', 128 * 1024);
  defaultIfNull(conntrack, 'tcpEstablishedTimeout', '24h0m0s');
  defaultIfNull(conntrack, 'tcpCloseWaitTimeout', '1h0m0s');

  defaultDuration(c, 'configSyncPeriod', '15m0s');

  const client = section(c, 'clientConnection');
  defaultIfZero(client, 'contentType', PROTOBUF_CONTENT_TYPE);
  defaultIfZero(client, 'qps', 5);
  defaultIfZero(client, 'burst', 10);

  defaultIfNull(c, 'featureGates', {});

  // component-base logsapi.SetRecommendedLoggingConfiguration.
  const logging = section(c, 'logging');
  defaultIfZero(logging, 'format', 'text');
  defaultDuration(logging, 'flushFrequency', '5s');
  return c;
}
