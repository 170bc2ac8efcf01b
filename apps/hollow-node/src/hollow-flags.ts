import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '@nodeagent/primitives';
import { HollowNodeFlagError } from './errors';

/** Which halves of a node each hollow node runs (kubemark's --morph, plus both at once). */
export type Morph = 'kubelet' | 'proxy' | 'both';

/** The command line, parsed and checked. */
export interface HollowNodeFlags {
  kubeconfig: string;
  nodes: number;
  namePrefix: string;
  maxPods: number;
  morph: Morph;
  /** Print the report and exit after this many milliseconds; undefined: run until a signal. */
  reportAfterMs: number | undefined;
  /** Each node bootstraps its own client certificate through a CSR (--client-certificates). */
  clientCertificates: boolean;
  /** Restart a wave of nodes this often (--restart-every); undefined: never. */
  restartEveryMs: number | undefined;
  /** Share of the nodes each restart wave restarts, in percent (--restart-percent). */
  restartPercent: number;
  /** Worker threads the nodes are spread over (--workers); 0: all in the main thread. */
  workers: number;
  /** The media type both halves ask the API server for (--kube-api-content-type, kubemark's). */
  contentType: string;
}

/** What the command line asks for: run, or print help or the version. */
export type HollowNodeCommand = { run: HollowNodeFlags } | { help: true } | { version: true };

/** One process holds at most this many nodes: each gets a /24 of 10.64.0.0/10 for its pods and an address in 172.16.0.0/12. */
export const MAX_NODES = 16_384;

export const HELP_TEXT = `nodeagent-hollow-node: many nodes in one process, each the real kubelet and kube-proxy
engines on a fake CRI runtime and a fake iptables, pointed at a real API server.

Flags:
  --kubeconfig <path>        kubeconfig of the API server (required)
  --nodes <N>                how many hollow nodes (default 1)
  --name-prefix <prefix>     node names are <prefix><i>, i from 0 (default "hollow-node-")
  --max-pods <N>             each node's maxPods (default 110)
  --morph <kubelet|proxy|both>  which halves each node runs (default both)
  --report-after <duration>  print the report and exit after this long (e.g. 5m)
  --client-certificates      each node bootstraps its own client certificate (CN system:node:<name>)
                             through a CSR sent with --kubeconfig's credentials, as the kubelet's TLS bootstrap
  --restart-every <duration> restart a wave of nodes' agents this often, once all are up (e.g. 2m)
  --restart-percent <P>      share of the nodes a wave restarts at once, 1 to 100 (default 10)
  --workers <K>              spread the nodes over K worker threads, 0 for none (default: the
                             host's cores, at most --nodes)
  --kube-api-content-type <type>  what both halves ask the API server for: the Service and
                             EndpointSlice lists and watches (default "application/vnd.kubernetes.protobuf",
                             or "application/json")
  --help, --version
The report (JSON on stdout) is also printed on SIGTERM or SIGINT.
`;

const OPTIONS = {
  kubeconfig: { type: 'string' },
  nodes: { type: 'string' },
  'name-prefix': { type: 'string' },
  'max-pods': { type: 'string' },
  morph: { type: 'string' },
  'report-after': { type: 'string' },
  'client-certificates': { type: 'boolean' },
  'restart-every': { type: 'string' },
  'restart-percent': { type: 'string' },
  workers: { type: 'string' },
  'kube-api-content-type': { type: 'string' },
  help: { type: 'boolean' },
  version: { type: 'boolean' },
} as const;

/** The content types kubemark's flag is given in practice; its default is upstream's. */
const CONTENT_TYPES = ['application/vnd.kubernetes.protobuf', 'application/json'];

/**
 * --kube-api-content-type: kubemark's hollow node passes any value to its clients, where one the
 * API server cannot answer fails every request; here it is refused at once.
 */
function contentType(text: string | undefined): string {
  if (text === undefined) return CONTENT_TYPES[0] as string;
  if (!CONTENT_TYPES.includes(text))
    throw new HollowNodeFlagError('--kube-api-content-type', text, `must be ${CONTENT_TYPES.join(' or ')}`);
  return text;
}

/** A whole number in [min, max], or the flag's error. */
function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max)
    throw new HollowNodeFlagError(flag, text, `must be a whole number from ${min} to ${max}`);
  return value;
}

/** The prefix must make RFC 1123 node names with the largest index appended. */
function namePrefix(text: string, nodes: number): string {
  const longest = `${text}${nodes - 1}`;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(longest) || longest.length > 253)
    throw new HollowNodeFlagError(
      '--name-prefix',
      text,
      'node names <prefix><i> must be lowercase RFC 1123 names',
    );
  return text;
}

function morph(text: string): Morph {
  if (text === 'kubelet' || text === 'proxy' || text === 'both') return text;
  throw new HollowNodeFlagError('--morph', text, 'must be kubelet, proxy or both');
}

/** A duration flag (`90s`, `5m`) longer than 0, or undefined when not given. */
function positiveDuration(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(text, flag);
  } catch {
    throw new HollowNodeFlagError(flag, text, 'must be a duration such as "90s" or "5m"');
  }
  if (!(ms > 0)) throw new HollowNodeFlagError(flag, text, 'must be longer than 0');
  return ms;
}

/**
 * --workers: one event loop per core by default (as a Go binary's GOMAXPROCS uses every core),
 * never more threads than nodes; at most 64.
 */
function workers(text: string | undefined, nodes: number): number {
  if (text === undefined) return Math.min(availableParallelism(), nodes);
  return Math.min(wholeNumber('--workers', text, 0, 64), nodes);
}

/** node:util's parse failure as pflag words it: unknown flag, missing value, stray argument. */
function commandLineError(message: string): HollowNodeFlagError {
  const quoted = /'([^' ]*)[^']*'/.exec(message)?.[1] ?? '';
  if (message.startsWith('Unknown option')) return new HollowNodeFlagError(quoted, undefined, 'unknown flag');
  if (message.includes('ambiguous'))
    return new HollowNodeFlagError(quoted, undefined, 'a value starting with "-" is given as flag=value');
  if (message.includes('argument missing'))
    return new HollowNodeFlagError(quoted, undefined, 'flag needs an argument');
  return new HollowNodeFlagError('argument', quoted, 'the hollow node takes flags only');
}

/** Parses argv (without node and the script); every mistake is a HollowNodeFlagError naming the flag. */
export function parseHollowNodeFlags(argv: string[]): HollowNodeCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    throw commandLineError(String((error as Error).message));
  }
  if (values.help) return { help: true };
  if (values.version) return { version: true };
  const kubeconfig = values.kubeconfig as string | undefined;
  if (!kubeconfig) throw new HollowNodeFlagError('--kubeconfig', undefined, 'is required');
  const nodes = wholeNumber('--nodes', (values.nodes as string | undefined) ?? '1', 1, MAX_NODES);
  return {
    run: {
      kubeconfig,
      nodes,
      namePrefix: namePrefix((values['name-prefix'] as string | undefined) ?? 'hollow-node-', nodes),
      maxPods: wholeNumber('--max-pods', (values['max-pods'] as string | undefined) ?? '110', 0, 100_000),
      morph: morph((values.morph as string | undefined) ?? 'both'),
      reportAfterMs: positiveDuration('--report-after', values['report-after'] as string | undefined),
      clientCertificates: values['client-certificates'] === true,
      restartEveryMs: positiveDuration('--restart-every', values['restart-every'] as string | undefined),
      restartPercent: wholeNumber(
        '--restart-percent',
        (values['restart-percent'] as string | undefined) ?? '10',
        1,
        100,
      ),
      workers: workers(values.workers as string | undefined, nodes),
      contentType: contentType(values['kube-api-content-type'] as string | undefined),
    },
  };
}
