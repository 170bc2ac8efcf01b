import { createServer, type Server } from 'node:http';
import {
  alwaysAllow,
  createKubeletServer,
  type Kubelet,
  kubeletAuthenticator,
  type SummaryProvider,
} from '@nodeagent/kubelet';

/** Paths of the debugging handlers, which upstream's read-only server never serves. */
const debuggingPath = /^\/(containerLogs|exec|attach|portForward|run|logs|debug)(\/|$)/;

/**
 * readOnlyPort: upstream's read-only kubelet server — plain HTTP, no authentication or
 * authorization, the read endpoints (/healthz, /pods, /metrics, /stats/summary) and none of
 * the debugging handlers (logs, exec, attach, port-forward).
 */
export function createReadOnlyServer(options: {
  kubelet: Kubelet;
  nodeName: string;
  podLogsDir: string;
  summary?: SummaryProvider;
}): Server {
  const reads = createKubeletServer({
    ...options,
    authenticate: kubeletAuthenticator({ x509: false, anonymous: true }),
    authorize: alwaysAllow,
  });
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://kubelet').pathname;
    if (debuggingPath.test(path)) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('404 page not found\n');
      return;
    }
    reads.emit('request', request, response);
  });
  // Streaming upgrades are debugging handlers too.
  server.on('upgrade', (_request, socket) =>
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'),
  );
  return server;
}
