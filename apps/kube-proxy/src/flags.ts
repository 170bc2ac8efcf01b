import type { Command } from 'commander';

type Kind = 'string' | 'int' | 'float' | 'bool' | 'duration' | 'list' | 'map';

/** One upstream kube-proxy flag and the KubeProxyConfiguration field(s) it sets. */
export interface FlagSpec {
  flag: string;
  /** One-letter alias (upstream's pflag shorthand), e.g. `-v` for `--v`. */
  short?: string;
  paths: readonly string[];
  kind: Kind;
  help: string;
}

// Upstream flag names (cmd/kube-proxy/app/options.go). A flag given on the command line
// overrides the same field from --config.
export const CONFIG_FLAGS: readonly FlagSpec[] = [
  {
    flag: 'bind-address',
    paths: ['bindAddress'],
    kind: 'string',
    help: 'IP address for the proxy server to serve on',
  },
  {
    flag: 'healthz-bind-address',
    paths: ['healthzBindAddress'],
    kind: 'string',
    help: 'IP:port for the health check server (default 0.0.0.0:10256)',
  },
  {
    flag: 'metrics-bind-address',
    paths: ['metricsBindAddress'],
    kind: 'string',
    help: 'IP:port for the metrics server (default 127.0.0.1:10249)',
  },
  {
    flag: 'bind-address-hard-fail',
    paths: ['bindAddressHardFail'],
    kind: 'bool',
    help: 'treat failure to bind to a port as fatal',
  },
  {
    flag: 'cluster-cidr',
    paths: ['clusterCIDR'],
    kind: 'string',
    help: 'CIDR range(s) of the pods in the cluster (comma-separated, one per family)',
  },
  {
    flag: 'hostname-override',
    paths: ['hostnameOverride'],
    kind: 'string',
    help: 'use this name as the node name instead of the hostname',
  },
  {
    flag: 'proxy-mode',
    paths: ['mode'],
    kind: 'string',
    help: "which proxy mode to use: 'iptables', 'nftables', 'ipvs' or 'userspace'",
  },
  {
    flag: 'kubeconfig',
    paths: ['clientConnection.kubeconfig'],
    kind: 'string',
    help: 'path to a kubeconfig file',
  },
  {
    flag: 'kube-api-qps',
    paths: ['clientConnection.qps'],
    kind: 'float',
    help: 'QPS to use while talking with the API server',
  },
  {
    flag: 'kube-api-burst',
    paths: ['clientConnection.burst'],
    kind: 'int',
    help: 'burst to use while talking with the API server',
  },
  {
    flag: 'kube-api-content-type',
    paths: ['clientConnection.contentType'],
    kind: 'string',
    help: 'content type of requests sent to the API server',
  },
  {
    flag: 'iptables-masquerade-bit',
    paths: ['iptables.masqueradeBit', 'nftables.masqueradeBit'],
    kind: 'int',
    help: 'bit of the fwmark space to mark packets requiring SNAT (0-31)',
  },
  {
    flag: 'masquerade-all',
    paths: ['iptables.masqueradeAll', 'nftables.masqueradeAll'],
    kind: 'bool',
    help: 'SNAT all traffic sent via Service cluster IPs',
  },
  {
    flag: 'iptables-sync-period',
    paths: ['iptables.syncPeriod'],
    kind: 'duration',
    help: 'maximum interval between rule syncs (e.g. 30s)',
  },
  {
    flag: 'iptables-min-sync-period',
    paths: ['iptables.minSyncPeriod'],
    kind: 'duration',
    help: 'minimum interval between rule syncs (e.g. 1s)',
  },
  {
    flag: 'iptables-localhost-nodeports',
    paths: ['iptables.localhostNodePorts'],
    kind: 'bool',
    help: 'accept NodePort connections on 127.0.0.1',
  },
  {
    flag: 'ipvs-sync-period',
    paths: ['ipvs.syncPeriod'],
    kind: 'duration',
    help: 'maximum interval between IPVS syncs',
  },
  {
    flag: 'ipvs-min-sync-period',
    paths: ['ipvs.minSyncPeriod'],
    kind: 'duration',
    help: 'minimum interval between IPVS syncs',
  },
  { flag: 'ipvs-scheduler', paths: ['ipvs.scheduler'], kind: 'string', help: 'IPVS scheduler' },
  {
    flag: 'ipvs-exclude-cidrs',
    paths: ['ipvs.excludeCIDRs'],
    kind: 'list',
    help: 'CIDRs IPVS must not touch when cleaning up',
  },
  {
    flag: 'ipvs-strict-arp',
    paths: ['ipvs.strictARP'],
    kind: 'bool',
    help: 'set arp_ignore=1 and arp_announce=2',
  },
  { flag: 'ipvs-tcp-timeout', paths: ['ipvs.tcpTimeout'], kind: 'duration', help: 'IPVS idle TCP timeout' },
  {
    flag: 'ipvs-tcpfin-timeout',
    paths: ['ipvs.tcpFinTimeout'],
    kind: 'duration',
    help: 'IPVS TCP FIN_WAIT timeout',
  },
  { flag: 'ipvs-udp-timeout', paths: ['ipvs.udpTimeout'], kind: 'duration', help: 'IPVS UDP timeout' },
  {
    flag: 'nodeport-addresses',
    paths: ['nodePortAddresses'],
    kind: 'list',
    help: 'CIDRs (or "primary") NodePorts are served on',
  },
  {
    flag: 'detect-local-mode',
    paths: ['detectLocalMode'],
    kind: 'string',
    help: 'ClusterCIDR, NodeCIDR, BridgeInterface or InterfaceNamePrefix',
  },
  {
    flag: 'pod-bridge-interface',
    paths: ['detectLocal.bridgeInterface'],
    kind: 'string',
    help: 'bridge interface for detect-local-mode BridgeInterface',
  },
  {
    flag: 'pod-interface-name-prefix',
    paths: ['detectLocal.interfaceNamePrefix'],
    kind: 'string',
    help: 'interface prefix for detect-local-mode InterfaceNamePrefix',
  },
  {
    flag: 'conntrack-max-per-core',
    paths: ['conntrack.maxPerCore'],
    kind: 'int',
    help: 'NAT connections to track per CPU core (0 leaves the limit alone)',
  },
  {
    flag: 'conntrack-min',
    paths: ['conntrack.min'],
    kind: 'int',
    help: 'minimum conntrack entries regardless of conntrack-max-per-core',
  },
  {
    flag: 'conntrack-tcp-timeout-established',
    paths: ['conntrack.tcpEstablishedTimeout'],
    kind: 'duration',
    help: 'idle timeout for established TCP connections',
  },
  {
    flag: 'conntrack-tcp-timeout-close-wait',
    paths: ['conntrack.tcpCloseWaitTimeout'],
    kind: 'duration',
    help: 'conntrack timeout for CLOSE_WAIT',
  },
  {
    flag: 'conntrack-tcp-be-liberal',
    paths: ['conntrack.tcpBeLiberal'],
    kind: 'bool',
    help: 'set nf_conntrack_tcp_be_liberal',
  },
  {
    flag: 'conntrack-udp-timeout',
    paths: ['conntrack.udpTimeout'],
    kind: 'duration',
    help: 'idle timeout for UNREPLIED UDP',
  },
  {
    flag: 'conntrack-udp-timeout-stream',
    paths: ['conntrack.udpStreamTimeout'],
    kind: 'duration',
    help: 'idle timeout for ASSURED UDP',
  },
  {
    flag: 'config-sync-period',
    paths: ['configSyncPeriod'],
    kind: 'duration',
    help: 'how often configuration from the API server is refreshed',
  },
  { flag: 'oom-score-adj', paths: ['oomScoreAdj'], kind: 'int', help: 'oom_score_adj value for the process' },
  {
    flag: 'profiling',
    paths: ['enableProfiling'],
    kind: 'bool',
    help: 'enable profiling on the metrics server',
  },
  {
    flag: 'proxy-port-range',
    paths: ['portRange'],
    kind: 'string',
    help: 'host port range the userspace proxies listen on (begin-end or begin+offset)',
  },
  {
    // Our extension: upstream never had it.
    flag: 'userspace-bind-only',
    paths: ['userspaceBindOnly'],
    kind: 'bool',
    help: "userspace mode: listen on the Services' own IPs/ports instead of programming REDIRECT rules (no kernel rules; the IPs must be local)",
  },
  { flag: 'feature-gates', paths: ['featureGates'], kind: 'map', help: 'key=value pairs of feature gates' },
  {
    flag: 'show-hidden-metrics-for-version',
    paths: ['showHiddenMetricsForVersion'],
    kind: 'string',
    help: 'previous version to show hidden metrics for',
  },
  {
    flag: 'v',
    short: 'v',
    paths: ['logging.verbosity'],
    kind: 'int',
    help: 'number for the log level verbosity',
  },
  {
    flag: 'logging-format',
    paths: ['logging.format'],
    kind: 'string',
    help: 'sets the log format: "text" (klog-style header, the default) or "json"',
  },
];

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function parseBool(v: string | boolean): boolean | string {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return v; // left for validation to reject with the field name
}

/** Registers every config flag on `cmd` (no defaults: defaults come from the configuration schema). */
export function addConfigFlags(cmd: Command): Command {
  for (const f of CONFIG_FLAGS) {
    const names = f.short ? `-${f.short}, --${f.flag}` : `--${f.flag}`;
    const spec = f.kind === 'bool' ? `${names} [bool]` : `${names} <value>`;
    cmd.option(spec, f.help);
  }
  return cmd;
}

/** Converts a flag's string to the value type of its config field. */
export function flagValue(spec: FlagSpec, raw: unknown): unknown {
  // pflag takes `-v=4` for a shorthand; commander hands over "=4".
  const s = (spec.short && typeof raw === 'string' && raw.startsWith('=') ? raw.slice(1) : raw) as
    | string
    | boolean;
  switch (spec.kind) {
    case 'bool':
      return parseBool(s);
    case 'int':
    case 'float': {
      const n = Number(s);
      return Number.isFinite(n) && (spec.kind === 'float' || Number.isInteger(n)) ? n : s;
    }
    case 'list':
      return String(s)
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    case 'map':
      return Object.fromEntries(
        String(s)
          .split(',')
          .filter(Boolean)
          .map((kv) => {
            const [k, v] = kv.split('=');
            return [k!.trim(), parseBool((v ?? '').trim())];
          }),
      );
    default:
      return String(s);
  }
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys.at(-1)!] = value;
}

/** Overlays flags given on the command line onto a (file) configuration object. */
export function overlayFlags(
  base: Record<string, unknown>,
  opts: Record<string, unknown>,
  givenOnCommandLine: (optionName: string) => boolean,
): Record<string, unknown> {
  const out = structuredClone(base);
  for (const f of CONFIG_FLAGS) {
    const name = camel(f.flag);
    if (!givenOnCommandLine(name) || opts[name] === undefined) continue;
    const value = flagValue(f, opts[name]);
    for (const p of f.paths) setPath(out, p, value);
  }
  return out;
}
