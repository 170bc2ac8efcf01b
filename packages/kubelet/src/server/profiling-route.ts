import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeGoHttpError } from './go-net-http';
import { refuseForRoute } from './restful-negotiation';

/** upstream's answer under /debug/pprof/ when enableProfilingHandler is false (any method). */
export const profilingDisabled = 'profiling endpoint is disabled.';

/** What this kubelet answers a GET under /debug/pprof/ with profiling on: why there is no profile. */
export const profilingUnavailable =
  "profiling endpoint is not available: upstream serves Go's net/http/pprof profiles (heap, " +
  'goroutine, profile, trace...), which a Node.js kubelet cannot produce; set ' +
  'enableProfilingHandler: false for the 405 upstream answers when it is off';

/**
 * /debug/pprof/ as upstream's InstallProfilingHandler registers it with the debugging handlers on
 * (pkg/kubelet/server/server.go): with enableProfilingHandler false a plain handler on the subtree
 * answers every method 405 `profiling endpoint is disabled.`; with it true (the default) a
 * go-restful web service takes GET /debug/pprof/{subpath:*} (another method: go-restful's 405)
 * and hands it to Go's pprof. Node has no Go profiles to give and no pprof-format profiler that
 * builds without native code, so a GET is 501 with the reason and the setting to change.
 * The authorizer treats these paths as upstream does (nodes/proxy) before this runs.
 */
export function serveProfiling(enabled: boolean, request: IncomingMessage, response: ServerResponse): void {
  if (!enabled) writeGoHttpError(response, 405, profilingDisabled);
  else if (!refuseForRoute(request, response, { methods: ['GET'], produces: [] }))
    writeGoHttpError(response, 501, profilingUnavailable);
}
