import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';

/**
 * A TCP tunnel to `host`:`port` through the http or https proxy `proxy` (HTTP CONNECT, with
 * Basic credentials from the proxy URL's user and password), as Go's transport opens one before
 * its TLS handshake with the server: the API server's HTTP/2 connection then runs inside it.
 * Rejects with the proxy's answer when it is not 200, or with the network error.
 */
export function proxyTunnel(proxy: URL, host: string, port: number, timeoutMs: number): Promise<Socket> {
  const target = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { host: target };
  if (proxy.username || proxy.password) {
    const user = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['proxy-authorization'] = `Basic ${Buffer.from(user).toString('base64')}`;
  }
  const tls = proxy.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const request = (tls ? httpsRequest : httpRequest)({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: Number(proxy.port || (tls ? 443 : 80)),
      method: 'CONNECT',
      path: target,
      headers,
      setHost: false,
      agent: false,
    });
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`proxyconnect ${target}: timeout`)));
    request.once('connect', (response, socket) => {
      request.setTimeout(0);
      if (response.statusCode === 200) {
        resolve(socket);
        return;
      }
      socket.destroy();
      reject(
        new Error(`proxyconnect ${target}: ${response.statusCode} ${response.statusMessage ?? ''}`.trim()),
      );
    });
    request.once('error', reject);
    request.end();
  });
}
