import type { KubeConfig } from '@kubernetes/client-node';
import { separateConnections } from '@nodeagent/informer/connections';

/** The user agent of one hollow node's requests: what the counter reads the node from. */
export function hollowUserAgent(version: string, nodeName: string): string {
  return `nodeagent-hollow-node/${version} (${nodeName})`;
}

/** The node name in a hollow node's user agent, or undefined for any other client. */
export function nodeOfUserAgent(userAgent: string): string | undefined {
  if (!userAgent.startsWith('nodeagent-hollow-node/')) return undefined;
  return /\(([^)]+)\)$/.exec(userAgent)?.[1];
}

/**
 * A view of `base` for one node: the same server and credentials, with the node's user agent on
 * every request. Every client of ours (typed requests, informers, lease and status writes)
 * authenticates through `applyToHTTPSOptions`, so this is the one place to set it. Each node
 * also gets connections of its own, as separate machines would: its own HTTP/2 connection
 * (separateConnections), and over HTTP/1.1 the informer package's keep-alive agents, which are
 * per KubeConfig object.
 */
export function nodeKubeConfig(base: KubeConfig, userAgent: string): KubeConfig {
  const view = Object.create(base) as KubeConfig;
  view.applyToHTTPSOptions = async (options) => {
    await base.applyToHTTPSOptions(options);
    options.headers = { ...options.headers, 'User-Agent': userAgent };
  };
  separateConnections(view);
  return view;
}
