import { parseArgs } from 'node:util';
import { CONTAINERD_ENV } from './containerd-choice';
import { InvalidArgumentError } from './errors';
import { MAX_NODES } from './fabric';
import {
  parseScenarioOptions,
  type ScenarioOptions,
  scenarioArgs,
  scenarioUsage,
} from './scenarios/scenario-options';

export type ProxyMode = 'nftables' | 'iptables';

export interface DemoOptions {
  /** Run the show once (start, apply, check, tear down) and exit: for tests and CI. */
  once: boolean;
  /** Use the fake CRI runtime instead of containerd (no root needed, no packet test). */
  fakeRuntime: boolean;
  /** How many nodes (1 by default: the single-node box; more join a fabric bridge). */
  nodes: number;
  /** kube-proxy's --proxy-mode on every node (default nftables). */
  proxyMode: ProxyMode;
  /** How many requests the data-path check sends through the ClusterIP. */
  requests: number;
  /** Keep the state dir (logs, kubeconfig) after teardown. */
  keepLogs: boolean;
  /** Seconds to wait for the workload to become ready. */
  readyTimeoutSeconds: number;
  /** Print a JSON summary as the last line (for tests). */
  json: boolean;
  help: boolean;
  /** --scenario and the control-plane/kubelet timings it may shorten (src/scenarios/scenario-options.ts). */
  scenario: ScenarioOptions;
}

export const demoUsage = `Usage: npm start -- [options]

Runs a Kubernetes node in a box: an in-process API server, a private containerd in its own
network namespace, the nodeagent kubelet and kube-proxy, and a sample web workload.

Options:
  --once                 start, check the data path, tear down and exit (exit 0 only if it all worked)
  --fake-runtime         use the fake CRI runtime (no root or containerd needed; no packet test)
  --nodes <n>            nodes, each a network namespace with its own containerd, kubelet and
                         kube-proxy, joined by a bridge (default 1, at most ${MAX_NODES})
  --proxy-mode <mode>    kube-proxy mode on every node: nftables (default) or iptables
  --requests <n>         requests sent through the ClusterIP (default 8)
  --ready-timeout <s>    seconds to wait for the pods to become ready (default 90)
  --keep-logs            keep the state directory (logs, kubeconfig) after teardown
  --json                 print a JSON summary as the last line
${scenarioUsage}  -h, --help             show this help

Environment:
  ${CONTAINERD_ENV}=1.6|2.1
                         the containerd the nodes run; unset: 2.1 (Debian unstable's, with its
                         runc 1.3) when tools/install-deps.mjs has unpacked it, else 1.6 (Debian
                         stable's, installed); a line under the containerd step says which
`;

function positiveInt(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError(flag, text, 'is not a positive integer');
  return value;
}

export function parseDemoOptions(argv: string[]): DemoOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        once: { type: 'boolean' },
        'fake-runtime': { type: 'boolean' },
        nodes: { type: 'string' },
        'proxy-mode': { type: 'string' },
        requests: { type: 'string' },
        'ready-timeout': { type: 'string' },
        'keep-logs': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...scenarioArgs,
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new InvalidArgumentError('argv', argv.join(' '), (error as Error).message);
  }
  const proxyMode = (values['proxy-mode'] as string | undefined) ?? 'nftables';
  if (proxyMode !== 'nftables' && proxyMode !== 'iptables') {
    // ipvs is left out on purpose: kube-proxy would need the kernel's ip_vs modules, which many
    // kernels (this project's test machines among them) do not have; the IPVS tests use a micro-VM.
    const why =
      proxyMode === 'ipvs' ? " (ipvs mode needs the kernel's ip_vs modules; the demo does not offer it)" : '';
    throw new InvalidArgumentError('--proxy-mode', proxyMode, `must be nftables or iptables${why}`);
  }
  const nodes = positiveInt('--nodes', values.nodes as string | undefined, 1);
  if (nodes > MAX_NODES) {
    throw new InvalidArgumentError(
      '--nodes',
      values.nodes,
      `is more than ${MAX_NODES} (each node runs containerd, a kubelet and kube-proxy)`,
    );
  }
  return {
    once: values.once === true,
    nodes,
    fakeRuntime: values['fake-runtime'] === true,
    proxyMode,
    requests: positiveInt('--requests', values.requests as string | undefined, 8),
    readyTimeoutSeconds: positiveInt('--ready-timeout', values['ready-timeout'] as string | undefined, 90),
    keepLogs: values['keep-logs'] === true,
    json: values.json === true,
    help: values.help === true,
    scenario: parseScenarioOptions(values, { nodes, fakeRuntime: values['fake-runtime'] === true }),
  };
}
