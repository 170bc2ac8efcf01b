/** The kubelet's streaming endpoints, as its server routes them. */
export type StreamingKind = 'exec' | 'attach' | 'portForward';

/** What a streaming path names: the endpoint, the pod and, for exec/attach, the container. */
export interface StreamingTarget {
  /** Which endpoint the path is under. */
  kind: StreamingKind;
  /** The pod's namespace. */
  namespace: string;
  /** The pod's name. */
  pod: string;
  /** Present in the /{kind}/{ns}/{pod}/{uid}/{container} form: the pod must have this uid. */
  uid?: string;
  /** Absent for portForward. */
  container?: string;
}

/**
 * /exec/{ns}/{pod}/{container}, /exec/{ns}/{pod}/{uid}/{container}, the same for /attach, and
 * /portForward/{ns}/{pod}[/{uid}]. Anything else is not a streaming path (undefined).
 */
export function parseStreamingPath(path: string): StreamingTarget | undefined {
  // `path` is the decoded path (Go's URL.Path), as go-restful routes on it.
  const parts = path.split('/').slice(1);
  const kind = parts[0];
  const segments = parts.slice(1);
  if (segments.some((s) => s === '')) return undefined;
  if (kind === 'exec' || kind === 'attach') {
    if (segments.length === 3) {
      const [namespace, pod, container] = segments as [string, string, string];
      return { kind, namespace, pod, container };
    }
    if (segments.length === 4) {
      const [namespace, pod, uid, container] = segments as [string, string, string, string];
      return { kind, namespace, pod, uid, container };
    }
    return undefined;
  }
  if (kind === 'portForward') {
    if (segments.length === 2) {
      const [namespace, pod] = segments as [string, string];
      return { kind, namespace, pod };
    }
    if (segments.length === 3) {
      const [namespace, pod, uid] = segments as [string, string, string];
      return { kind, namespace, pod, uid };
    }
  }
  return undefined;
}

/** The exec/attach session a request's query asks for ({@link streamOptions}). */
export interface StreamOptions {
  /** The `command` parameters in order (empty for attach). */
  command: string[];
  /** input=1 (or stdin=true): the caller sends stdin. */
  stdin: boolean;
  /** output=1 (or stdout=true): the caller reads stdout. */
  stdout: boolean;
  /** error=1 (or stderr=true), and no TTY: the caller reads stderr apart. */
  stderr: boolean;
  /** tty=1 (or tty=true): the process gets a terminal. */
  tty: boolean;
}

/** A boolean stream flag: the API server sends input=1/output=1/error=1/tty=1; kubectl's own names work too. */
function flag(query: URLSearchParams, apiServerName: string, kubectlName: string): boolean {
  const value = query.get(apiServerName) ?? query.get(kubectlName);
  return value === '1' || value === 'true';
}

/**
 * Upstream's remotecommand options from the query: command (repeated), input, output, error,
 * tty. With a TTY, stderr is merged into stdout, so it is never requested separately.
 */
export function streamOptions(query: URLSearchParams): StreamOptions {
  const tty = flag(query, 'tty', 'tty');
  return {
    command: query.getAll('command'),
    stdin: flag(query, 'input', 'stdin'),
    stdout: flag(query, 'output', 'stdout'),
    stderr: flag(query, 'error', 'stderr') && !tty,
    tty,
  };
}

/** The ports of a port-forward request (?port=80&port=443 or ports=80,443); SPDY clients name them per stream instead. */
export function portForwardPorts(query: URLSearchParams): number[] {
  return [...query.getAll('port'), ...query.getAll('ports').flatMap((p) => p.split(','))]
    .map((p) => Number(p.trim()))
    .filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
}
