import type { RegisteredSubtrees } from './debugging-handlers';

/** upstream's healthz.InstallHandler: /healthz and one path per check (PingHealthz, LogHealthz, syncloop). */
const healthzPaths = ['/healthz', '/healthz/ping', '/healthz/log', '/healthz/syncloop'];

/**
 * The exact paths and subtrees upstream v1.36's kubelet server registers on its mux
 * (pkg/kubelet/server/server.go NewServer, with the zpages gates ComponentFlagz and
 * ComponentStatusz at their v1.36 default, off): InstallAuthNotRequiredHandlers always; with
 * enableDebuggingHandlers the system-log, profiling, debug-flags and auth-required handlers, else
 * InstallDebuggingDisabledHandlers' subtrees.
 */
function registeredPatterns(registered: RegisteredSubtrees): { exact: string[]; subtrees: string[] } {
  const exact = [...healthzPaths, '/metrics/slis', '/pods', '/metrics', '/metrics/cadvisor'];
  exact.push('/metrics/resource', '/metrics/probes');
  const subtrees = ['/pods/', '/stats/'];
  const debugSubtrees = ['/run/', '/exec/', '/attach/', '/portForward/', '/containerLogs/'];
  if (!registered.debuggingHandlers)
    return { exact, subtrees: [...subtrees, ...debugSubtrees, '/runningpods/', '/debug/pprof/', '/logs/'] };
  // go-restful registers a web service's root both bare and as a subtree.
  exact.push('/debug/flags/v', '/configz', '/run', '/exec', '/attach', '/portForward', '/containerLogs');
  subtrees.push(...debugSubtrees, '/logs/', '/debug/pprof/', '/runningpods/');
  if (registered.checkpoint) subtrees.push('/checkpoint/');
  return { exact, subtrees };
}

/**
 * Whether Go's ServeMux finds a handler for `path` on upstream's kubelet server. One it does not
 * is the mux's own 404 `404 page not found`, answered before the auth filter, which only wraps
 * registered handlers: an anonymous caller gets 404 for `/nope`, not 401.
 */
export function isRegisteredPath(path: string, registered: RegisteredSubtrees): boolean {
  const { exact, subtrees } = registeredPatterns(registered);
  return exact.includes(path) || subtrees.some((subtree) => path.startsWith(subtree));
}

/**
 * Whether `path` reaches one of upstream's go-restful web services (/pods, /stats/, and with the
 * debugging handlers /runningpods/, /exec, /attach, /portForward, /containerLogs, /run,
 * /checkpoint/, /logs/, /debug/pprof/). A path such a service has no route for is go-restful's
 * `404: Page Not Found` after the auth filter, not the mux's `404 page not found`.
 */
export function isWebServicePath(path: string, registered: RegisteredSubtrees): boolean {
  const roots = ['/pods', '/stats/'];
  if (registered.debuggingHandlers) {
    roots.push('/runningpods/', '/exec', '/attach', '/portForward', '/containerLogs', '/run');
    roots.push('/logs/', '/debug/pprof/');
    if (registered.checkpoint) roots.push('/checkpoint/');
  }
  return roots.some((root) => path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`));
}
