/**
 * What upstream's InstallDebuggingDisabledHandlers registers when enableDebuggingHandlers is false
 * (pkg/kubelet/server/server.go): these subtrees answer every method 405 `Debug endpoints are
 * disabled.`, behind the same authentication and authorization filter as every other handler.
 * /configz, /checkpoint/ and /debug/flags/v are then not registered at all (404).
 */
const debuggingDisabledSubtrees = [
  '/run/',
  '/exec/',
  '/attach/',
  '/portForward/',
  '/containerLogs/',
  '/runningpods/',
  '/debug/pprof/',
  '/logs/',
];

/** upstream's text for a path under {@link debuggingDisabledSubtrees}. */
export const debugEndpointsDisabled = 'Debug endpoints are disabled.';

/** Whether Go's mux hands `path` to one of the debugging-disabled handlers (a subtree pattern: a prefix match). */
export function isDebuggingDisabledPath(path: string): boolean {
  return debuggingDisabledSubtrees.some((subtree) => path.startsWith(subtree));
}

/** Which of the server's subtree patterns are registered, as {@link subtreeRoots} needs to know. */
export interface RegisteredSubtrees {
  /** enableDebuggingHandlers. */
  debuggingHandlers: boolean;
  /** /checkpoint/ is served (the ContainerCheckpoint gate on and a runtime to call). */
  checkpoint: boolean;
}

/**
 * The paths upstream's mux registers only with a trailing slash (a web service whose path ends in
 * `/`, or a handler on a subtree pattern), whose bare root Go's ServeMux redirects: /stats/,
 * /runningpods/, /logs/ and /debug/pprof/ in both modes; /checkpoint/ with debugging handlers;
 * the disabled subtrees without them (/exec and the others are web services, `/exec` included,
 * when they are on).
 */
export function subtreeRoots(registered: RegisteredSubtrees): string[] {
  const always = ['/stats', '/runningpods', '/logs', '/debug/pprof'];
  if (!registered.debuggingHandlers)
    return [...always, '/run', '/exec', '/attach', '/portForward', '/containerLogs'];
  return registered.checkpoint ? [...always, '/checkpoint'] : always;
}
