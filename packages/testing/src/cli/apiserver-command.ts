import { Command, InvalidArgumentError } from 'commander';
import { type ApiServer, type ApiServerOptions, startApiServer } from '../apiserver/api-server';

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
  }>();
  const server: ApiServerOptions = {
    port: o.port,
    tls: o.tls,
    historyWindow: o.historyWindow,
    serviceCIDR: o.serviceClusterIpRange,
    endpointSliceController: o.endpointsliceController
      ? { maxEndpointsPerSlice: o.maxEndpointsPerSlice }
      : false,
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
