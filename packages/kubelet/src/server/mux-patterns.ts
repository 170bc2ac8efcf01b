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

/** How a path's segments fare on the mux: a pattern matches, or its subtree-root redirect applies. */
export interface MuxMatch {
  matched: boolean;
  /** No exact pattern matches, no trailing slash, and the path plus `/` is a subtree root. */
  redirectToSubtree: boolean;
}

const segmentsOf = (pattern: string): string[] => pattern.slice(1).split('/');
const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((s, i) => s === b[i]);

/**
 * Go's routing tree on upstream's kubelet patterns, given a cleaned escaped path's segments each
 * decoded (`/a/b/` is ['a', 'b', '']; `a%2Fb` stays one segment 'a/b'): an exact pattern matches
 * equal segments, a subtree `/a/` any path with more segments than its own that starts with them.
 * matchOrRedirect's trailing-slash rule: a path not ending in `/` that no exact pattern matches is
 * redirected when adding `/` makes it exactly a subtree root.
 */
export function muxMatch(segments: string[], registered: RegisteredSubtrees): MuxMatch {
  const { exact, subtrees } = registeredPatterns(registered);
  const exactHit = exact.some((pattern) => same(segmentsOf(pattern), segments));
  const subtreeHit = subtrees.some((pattern) => {
    const prefix = segmentsOf(pattern).slice(0, -1);
    return segments.length > prefix.length && same(prefix, segments.slice(0, prefix.length));
  });
  const slashed = [...segments, ''];
  const redirectToSubtree =
    !exactHit && segments.at(-1) !== '' && subtrees.some((pattern) => same(segmentsOf(pattern), slashed));
  return { matched: exactHit || subtreeHit, redirectToSubtree };
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
