import { Agent as HttpAgent, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { connectionGroupOf } from './connection-groups';
import { environmentProxyFor } from './environment-proxy';
import { proxyAgent } from './proxy-agent';
import { sameTlsMaterial, sharedSecureContext, type TlsMaterial, tlsMaterialOf } from './secure-context';

/**
 * How long a kept connection may sit idle (client-go's IdleConnTimeout, 90 s). It also makes Node
 * honour the server's `Keep-Alive: timeout=N` (Node 20 applies the hint only to an agent with a
 * timeout): a kept connection is closed 1 s before the server would close it, instead of being
 * reused just as the server closes it ("socket hang up" on a Lease renewal against a server
 * with Node's 5 s keep-alive, such as the in-process API server).
 */
export const IDLE_CONNECTION_TIMEOUT_MS = 90_000;

/**
 * At most this many connections per KubeConfig and server; further requests wait in the agent
 * for a free one. client-go multiplexes every request over one HTTP/2 connection, and upstream's
 * kubelet writes pod statuses and events one at a time; over HTTP/1.1 with no limit a burst (30
 * pods started on a node: 30 status writes and 90 events at once) opened a socket per request,
 * and 1,000 hollow nodes in one process ran out of file descriptors (EMFILE at 20,000).
 */
const MAX_CONNECTIONS_PER_SERVER = 8;

/** A kept agent and the TLS material it was made for. */
interface KeptAgent {
  material: TlsMaterial;
  agent: HttpAgent;
  /** The environment's proxy the agent goes through, '' for none. */
  proxy: string;
}

/**
 * The two kinds of connection a KubeConfig's clients keep. `requests`: apiRequest's calls, at most
 * MAX_CONNECTIONS_PER_SERVER. `streams`: lists and watches, each holding its connection while it
 * reads, as many as are open at once; a watch the server ends at its timeoutSeconds leaves its
 * connection for the next, so renewing a watch (every 5–10 min each) costs no new connection and,
 * over TLS, no handshake, as a new stream on client-go's one HTTP/2 connection costs none.
 */
export type ConnectionPool = 'requests' | 'streams';

const MAX_SOCKETS: Record<ConnectionPool, number> = {
  requests: MAX_CONNECTIONS_PER_SERVER,
  streams: Number.POSITIVE_INFINITY,
};

/** Each KubeConfig's kept agent, per pool. */
const agents: Record<ConnectionPool, WeakMap<KubeConfig, KeptAgent>> = {
  requests: new WeakMap(),
  streams: new WeakMap(),
};

/** A kept agent's place: its KubeConfig's connection group and API server (origin). */
interface AgentPlace {
  group: string;
  origin: string;
}

/**
 * Every kept agent still alive, with its place, for closeKeptAgents: one replaced at a rotation
 * stays while its busy connections hold it, so they are closed too.
 */
const places = new Map<WeakRef<HttpAgent>, AgentPlace>();
/** An agent collected with its KubeConfig leaves `places` too. */
const collected = new FinalizationRegistry<WeakRef<HttpAgent>>((ref) => places.delete(ref));

/** The origin of `kubeConfig`'s current server; undefined when it names none it could reach. */
export function serverOrigin(kubeConfig: KubeConfig): string | undefined {
  const server = kubeConfig.getCurrentCluster()?.server;
  return server && URL.canParse(server) ? new URL(server).origin : undefined;
}

/** Keeps `kept.agent` as `kubeConfig`'s agent for `pool`, in place of the one it had. */
function keep(kubeConfig: KubeConfig, pool: ConnectionPool, kept: KeptAgent): void {
  agents[pool].set(kubeConfig, kept);
  const ref = new WeakRef(kept.agent);
  collected.register(kept.agent, ref);
  places.set(ref, { group: connectionGroupOf(kubeConfig), origin: serverOrigin(kubeConfig) ?? '' });
}

/**
 * Destroys every socket, busy or idle, of the kept agents of the KubeConfigs in connection group
 * `group` whose server is `origin`: their requests fail, and the next ones connect again.
 */
export function closeKeptAgents(origin: string, group: string): void {
  for (const [ref, place] of places) {
    const agent = ref.deref();
    if (!agent) places.delete(ref);
    else if (place.group === group && place.origin === origin) agent.destroy();
  }
}

/**
 * Fills `options` for a request to `kubeConfig`'s API server as client-node's
 * applyToHTTPSOptions does (credentials' headers, TLS material, proxy agent), except that a plain
 * HTTP or HTTPS agent is one keep-alive agent per KubeConfig and pool, kept while its TLS material
 * stays the same. client-node makes a new Agent at every call, so each request opened a connection
 * of its own, over HTTPS with a TLS handshake each: the agent's status writes, Lease renewals,
 * events and watch renewals paid for a handshake apiece, where client-go keeps one HTTP/2
 * connection to the API server. New material (a rotated client certificate) gets a new agent; the
 * old one's idle connections are closed then, its busy ones finish their request and are left to
 * the server. A request through a proxy (the kubeconfig's `proxy-url`, else the environment's:
 * HTTPS_PROXY, HTTP_PROXY, NO_PROXY, as client-go's ProxyFromEnvironment) has a kept proxy agent
 * instead. Returns the kept agent (for an http or https proxy, the proxy agent: HTTP/2 then runs
 * in a tunnel through it), or undefined when a socks proxy's agent carries the request over
 * HTTP/1.1 (client-node's for a socks `proxy-url`, or the environment's socks5 one).
 */
export async function applyConnectionOptions(
  kubeConfig: KubeConfig,
  options: RequestOptions,
  pool: ConnectionPool = 'requests',
): Promise<HttpAgent | undefined> {
  await kubeConfig.applyToHTTPSOptions(options);
  const made = options.agent;
  if (!made) return undefined;
  const cluster = kubeConfig.getCurrentCluster();
  // A socks proxy-url keeps the agent client-node made for it.
  if (cluster?.proxyUrl?.startsWith('socks')) return undefined;
  // The kubeconfig's proxy-url first, then the environment's (client-go's ProxyFromEnvironment).
  const proxy = cluster?.proxyUrl || (cluster?.server && environmentProxyFor(cluster.server)) || '';
  // The environment's socks5 proxy carries HTTP/1.1 only; an http or https one tunnels HTTP/2 too.
  const http2Capable = !proxy.startsWith('socks');
  const tls = made instanceof HttpsAgent;
  const material = tlsMaterialOf(options);
  const kept = agents[pool].get(kubeConfig);
  if (
    kept &&
    kept.proxy === proxy &&
    kept.agent instanceof HttpsAgent === tls &&
    sameTlsMaterial(kept.material, material)
  ) {
    options.agent = kept.agent;
    return http2Capable ? kept.agent : undefined;
  }
  const agentOptions = {
    ...(made as HttpsAgent).options,
    keepAlive: true,
    timeout: IDLE_CONNECTION_TIMEOUT_MS,
    maxSockets: MAX_SOCKETS[pool],
    secureContext: tls ? sharedSecureContext(kubeConfig, options) : undefined,
  };
  const agent = proxy
    ? proxyAgent(proxy, tls, agentOptions)
    : tls
      ? new HttpsAgent(agentOptions)
      : new HttpAgent(agentOptions);
  if (kept)
    for (const sockets of Object.values(kept.agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
  keep(kubeConfig, pool, { material, agent, proxy });
  options.agent = agent;
  return http2Capable ? agent : undefined;
}
