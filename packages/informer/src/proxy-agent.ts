import type { AgentOptions, Agent as HttpAgent } from 'node:http';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { SocksProxyAgent } from 'socks-proxy-agent';

/**
 * A keep-alive agent whose connections go through `proxy` (an http, https or socks5 URL), for a
 * server over TLS (`tls`) or plain HTTP, with `options` (TLS material, limits) for the server's
 * side: the proxy agents client-node makes for a kubeconfig's `proxy-url`, kept.
 */
export function proxyAgent(proxy: string, tls: boolean, options: AgentOptions): HttpAgent {
  if (/^socks/.test(proxy)) return new SocksProxyAgent(proxy, options) as unknown as HttpAgent;
  return tls ? new HttpsProxyAgent({ ...options, proxy }) : new HttpProxyAgent({ ...options, proxy });
}
