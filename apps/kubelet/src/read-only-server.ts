import type { Server } from 'node:http';
import {
  alwaysAllow,
  createKubeletServer,
  type Kubelet,
  kubeletAuthenticator,
  type SummaryProvider,
} from '@nodeagent/kubelet';

/**
 * readOnlyPort: upstream's read-only kubelet server (NewServer without a configuration): plain
 * HTTP, no authentication or authorization, the read endpoints (/healthz, /pods, /metrics,
 * /stats/summary), and the debugging handlers disabled as upstream's
 * InstallDebuggingDisabledHandlers answers them (405 "Debug endpoints are disabled.").
 */
export function createReadOnlyServer(options: {
  kubelet: Kubelet;
  nodeName: string;
  podLogsDir: string;
  summary?: SummaryProvider;
}): Server {
  return createKubeletServer({
    ...options,
    authenticate: kubeletAuthenticator({ x509: false, anonymous: true }),
    authorize: alwaysAllow,
    debuggingHandlers: false,
  });
}
