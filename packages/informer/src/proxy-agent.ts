import type { AgentOptions, Agent as HttpAgent } from 'node:http';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { SocksProxyAgent } from 'socks-proxy-agent';

/** The http or https proxy of each proxy agent made for a server over TLS. */
const tlsProxies = new WeakMap<HttpAgent, URL>();

/**
 * A keep-alive agent whose connections go through `proxy` (an http, https or socks5 URL), for a
 * server over TLS (`tls`) or plain HTTP, with `options` (TLS material, limits) for the server's
 * side: the proxy agents client-node makes for a kubeconfig's `proxy-url`, kept.
 */
export function proxyAgent(proxy: string, tls: boolean, options: AgentOptions): HttpAgent {
  if (/^socks/.test(proxy)) return new SocksProxyAgent(proxy, options) as unknown as HttpAgent;
  if (!tls) return new HttpProxyAgent({ ...options, proxy });
  const agent = new HttpsProxyAgent({ ...options, proxy });
  tlsProxies.set(agent, new URL(proxy));
  return agent;
}

/** The http or https proxy `agent` (from proxyAgent, for a server over TLS) goes through, if any. */
export function tlsProxyOf(agent: HttpAgent): URL | undefined {
  return tlsProxies.get(agent);
}
