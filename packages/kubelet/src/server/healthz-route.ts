import type { ServerResponse } from 'node:http';
import type { Kubelet } from '../kubelet';
import { writeGoHttpError } from './go-net-http';
import type { RequestTarget } from './go-serve-mux';

/** A named health check, as upstream's healthz.HealthChecker: undefined when healthy, else why not. */
interface HealthCheck {
  name: string;
  check(): string | undefined;
}

/** The kubelet server's checks (InstallAuthNotRequiredHandlers): ping, log and syncloop. */
function kubeletChecks(kubelet: Kubelet): HealthCheck[] {
  const syncLoop = () => {
    const health = kubelet.healthz();
    return health.ok ? undefined : health.message;
  };
  return [
    { name: 'ping', check: () => undefined },
    { name: 'log', check: () => undefined },
    { name: 'syncloop', check: syncLoop },
  ];
}

/** Go's %q of each name, comma-separated, as healthz's formatQuoted. */
function formatQuoted(names: string[]): string {
  return names.map((name) => JSON.stringify(name)).join(',');
}

/**
 * /healthz as upstream's healthz handleRootHealth answers it: `ok` (text/plain, nosniff), or with
 * `?verbose` one line per check and `healthz check passed`; `?exclude=<name>` skips a check; a
 * failed check is 500 with every line and the reason withheld (the endpoint is public), then
 * `healthz check failed`. /healthz/<check> is that check alone: `ok` or 500 `internal server
 * error: <reason>`.
 */
export function serveHealthz(kubelet: Kubelet, url: RequestTarget, response: ServerResponse): boolean {
  const checks = kubeletChecks(kubelet);
  const single = checks.find((c) => url.pathname === `/healthz/${c.name}`);
  if (single) {
    const failure = single.check();
    if (failure !== undefined) writeGoHttpError(response, 500, `internal server error: ${failure}`);
    else response.end('ok');
    return true;
  }
  if (url.pathname !== '/healthz') return false;
  const excluded = new Set(url.searchParams.getAll('exclude'));
  let lines = '';
  let failed = false;
  for (const { name, check } of checks) {
    if (excluded.delete(name)) {
      lines += `[+]${name} excluded: ok\n`;
      continue;
    }
    const failure = check();
    failed ||= failure !== undefined;
    lines += failure === undefined ? `[+]${name} ok\n` : `[-]${name} failed: reason withheld\n`;
  }
  if (excluded.size > 0)
    lines += `warn: some health checks cannot be excluded: no matches for ${formatQuoted([...excluded].sort())}\n`;
  if (failed) {
    writeGoHttpError(response, 500, `${lines}healthz check failed`);
    return true;
  }
  response.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(url.searchParams.has('verbose') ? `${lines}healthz check passed\n` : 'ok');
  return true;
}
