import { parseDuration } from '@nodeagent/primitives';
import { Command, InvalidArgumentError } from 'commander';
import { type ApiServer, type ApiServerOptions, startApiServer } from '../apiserver/api-server';
import type { ControlPlaneOptions, NodeLifecycleControllerOptions } from '../apiserver/control-plane';

export interface ApiServerCliOptions {
  server: ApiServerOptions;
  /** Where to write a kubeconfig for kubectl and the agents; none when undefined. */
  kubeconfig?: string;
}

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}], got "${value}"`);
    }
    return n;
  };
}

function cidr(value: string): string {
  if (!/^(\d{1,3}\.){3}\d{1,3}\/(1[2-9]|2\d|30)$/.test(value)) {
    throw new InvalidArgumentError(`--service-cluster-ip-range must be an IPv4 CIDR /12-/30, got "${value}"`);
  }
  return value;
}

/** A Go duration (`5s`, `1m30s`) that must be positive, in seconds. */
function positiveDuration(flag: string) {
  return (value: string): number => {
    let ms: number;
    try {
      ms = parseDuration(value, flag);
    } catch {
      throw new InvalidArgumentError(`${flag} must be a Go duration such as 5s or 1m30s, got "${value}"`);
    }
    if (!(ms > 0)) throw new InvalidArgumentError(`${flag} must be a positive duration, got "${value}"`);
    return ms / 1000;
  };
}

/**
 * kube-controller-manager's --controllers names (v1.34) of the controllers this server has, with
 * the older names upstream still accepts as aliases.
 */
const CONTROLLERS = {
  'node-lifecycle-controller': 'nodeLifecycle',
  'taint-eviction-controller': 'taintEviction',
  'replicaset-controller': 'replicaSet',
  'deployment-controller': 'deployment',
  'garbage-collector-controller': 'garbageCollector',
} as const;
type ControllerName = keyof typeof CONTROLLERS;
const ALIASES: Record<string, ControllerName> = {
  nodelifecycle: 'node-lifecycle-controller',
  'taint-eviction': 'taint-eviction-controller',
  replicaset: 'replicaset-controller',
  deployment: 'deployment-controller',
  garbagecollector: 'garbage-collector-controller',
};

/**
 * --controllers as kube-controller-manager reads it: `*` is every controller, `foo` turns foo on,
 * `-foo` turns it off (later entries win over `*`). Returns the set turned on.
 */
export function parseControllers(value: string): Set<ControllerName> {
  const on = new Set<ControllerName>();
  const off = new Set<ControllerName>();
  let star = false;
  for (const raw of value.split(',').map((x) => x.trim())) {
    if (raw === '') continue;
    if (raw === '*') {
      star = true;
      continue;
    }
    const negated = raw.startsWith('-');
    const bare = negated ? raw.slice(1) : raw;
    const name = bare in CONTROLLERS ? (bare as ControllerName) : ALIASES[bare];
    if (!name) {
      throw new InvalidArgumentError(
        `--controllers: unknown controller "${bare}" in "${value}" (known: *, ${Object.keys(CONTROLLERS).join(', ')})`,
      );
    }
    (negated ? off : on).add(name);
  }
  const result = new Set<ControllerName>(star ? (Object.keys(CONTROLLERS) as ControllerName[]) : []);
  for (const n of on) result.add(n);
  for (const n of off) result.delete(n);
  return result;
}

/** Parse the command line of `nodeagent-test-apiserver` (flag names follow kube-apiserver where one exists). */
export function parseApiServerArgs(argv: string[]): ApiServerCliOptions {
  const program = new Command('nodeagent-test-apiserver')
    .description('In-process fake Kubernetes API server (with EndpointSlice controller) for demos and tests')
    .option('--port <port>', 'TCP port on 127.0.0.1 (0 picks a free one)', integer('--port', 0, 65535), 0)
    .option(
      '--tls',
      'serve HTTPS with a throwaway self-signed certificate made in-process with @peculiar/x509',
      false,
    )
    .option('--kubeconfig <path>', 'write a kubeconfig pointing at the server to this path')
    .option(
      '--history-window <events>',
      'changes kept for watches before 410 Gone',
      integer('--history-window', 1, 10_000_000),
      10_000,
    )
    .option('--service-cluster-ip-range <cidr>', 'ClusterIP range', cidr, '10.96.0.0/12')
    .option('--no-endpointslice-controller', 'do not run the EndpointSlice controller')
    .option(
      '--max-endpoints-per-slice <n>',
      'EndpointSlice controller limit',
      integer('--max-endpoints-per-slice', 1, 1000),
      100,
    )
    .option(
      '--controllers <list>',
      'control-plane controllers to run, as kube-controller-manager: * for all, name to add, -name to remove ' +
        `(${Object.keys(CONTROLLERS).join(', ')}); none by default`,
    )
    .option('--scheduler', 'run the scheduler (default: on when --controllers runs anything)')
    .option('--no-scheduler', 'do not run the scheduler')
    .option(
      '--node-monitor-period <duration>',
      'node-lifecycle-controller: how often node health is checked (default 5s)',
      positiveDuration('--node-monitor-period'),
    )
    .option(
      '--node-monitor-grace-period <duration>',
      'node-lifecycle-controller: unrenewed Lease time before Ready=Unknown (default 50s)',
      positiveDuration('--node-monitor-grace-period'),
    )
    .option(
      '--node-startup-grace-period <duration>',
      'node-lifecycle-controller: the same for a node that never posted status (default 1m0s)',
      positiveDuration('--node-startup-grace-period'),
    )
    .option(
      '--default-not-ready-toleration-seconds <n>',
      'tolerationSeconds of the not-ready NoExecute toleration added to pods without one (default 300)',
      integer('--default-not-ready-toleration-seconds', 0, 2 ** 31 - 1),
    )
    .option(
      '--default-unreachable-toleration-seconds <n>',
      'tolerationSeconds of the unreachable NoExecute toleration added to pods without one (default 300)',
      integer('--default-unreachable-toleration-seconds', 0, 2 ** 31 - 1),
    )
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.parse(argv, { from: 'user' });
  const o = program.opts<{
    port: number;
    tls: boolean;
    kubeconfig?: string;
    historyWindow: number;
    serviceClusterIpRange: string;
    endpointsliceController: boolean;
    maxEndpointsPerSlice: number;
    controllers?: string;
    scheduler?: boolean;
    nodeMonitorPeriod?: number;
    nodeMonitorGracePeriod?: number;
    nodeStartupGracePeriod?: number;
    defaultNotReadyTolerationSeconds?: number;
    defaultUnreachableTolerationSeconds?: number;
  }>();
  const controllers = parseControllers(o.controllers ?? '');
  const lifecycle: NodeLifecycleControllerOptions = {};
  const timings = [
    ['--node-monitor-period', 'nodeMonitorPeriodSeconds', o.nodeMonitorPeriod],
    ['--node-monitor-grace-period', 'nodeMonitorGracePeriodSeconds', o.nodeMonitorGracePeriod],
    ['--node-startup-grace-period', 'nodeStartupGracePeriodSeconds', o.nodeStartupGracePeriod],
  ] as const;
  for (const [flag, field, value] of timings) {
    if (value === undefined) continue;
    // A timing for a controller that does not run would be silently ignored: refuse it.
    if (!controllers.has('node-lifecycle-controller')) {
      throw new InvalidArgumentError(
        `${flag} needs node-lifecycle-controller in --controllers, got --controllers="${o.controllers ?? ''}"`,
      );
    }
    lifecycle[field] = value;
  }
  const scheduler = o.scheduler ?? controllers.size > 0;
  let controlPlane: ControlPlaneOptions | undefined;
  if (controllers.size > 0 || scheduler) {
    controlPlane = { scheduler };
    for (const [name, part] of Object.entries(CONTROLLERS) as [
      ControllerName,
      (typeof CONTROLLERS)[ControllerName],
    ][]) {
      if (!controllers.has(name)) controlPlane[part] = false;
      else if (part === 'nodeLifecycle') controlPlane.nodeLifecycle = lifecycle;
    }
  }
  const server: ApiServerOptions = {
    port: o.port,
    tls: o.tls,
    historyWindow: o.historyWindow,
    serviceCIDR: o.serviceClusterIpRange,
    endpointSliceController: o.endpointsliceController
      ? { maxEndpointsPerSlice: o.maxEndpointsPerSlice }
      : false,
    ...(controlPlane ? { controlPlane } : {}),
    ...(o.defaultNotReadyTolerationSeconds !== undefined
      ? { defaultNotReadyTolerationSeconds: o.defaultNotReadyTolerationSeconds }
      : {}),
    ...(o.defaultUnreachableTolerationSeconds !== undefined
      ? { defaultUnreachableTolerationSeconds: o.defaultUnreachableTolerationSeconds }
      : {}),
  };
  return o.kubeconfig ? { server, kubeconfig: o.kubeconfig } : { server };
}

/** Start the server the command line describes; prints one JSON line `{ url, kubeconfig }`. */
export async function runApiServerCli(
  argv: string[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<ApiServer> {
  const opts = parseApiServerArgs(argv);
  const server = await startApiServer(opts.server);
  if (opts.kubeconfig) server.writeKubeconfig(opts.kubeconfig);
  out(JSON.stringify({ url: server.url, kubeconfig: opts.kubeconfig ?? null }));
  return server;
}
