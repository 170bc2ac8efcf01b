import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeRestfulError } from './restful-answers';

/** A go-restful route as upstream declares it: its methods and what it Produces (the web service's). */
export interface RestfulRoute {
  /** The methods the route's path is registered with. */
  methods: string[];
  /** ws.Produces(…); empty where upstream's web service declares none. */
  produces: string[];
}

const json = ['application/json'];

/**
 * The kubelet's web-service routes (pkg/kubelet/server/server.go, server/stats/handler.go):
 * /pods, /runningpods/, /stats/ and /checkpoint/ produce JSON; /run, /exec, /attach,
 * /portForward, /containerLogs and /logs/ declare nothing, so go-restful serves them only to a client
 * whose Accept is absent or holds `*∕*`.
 */
export const kubeletRoutes = {
  pods: { methods: ['GET'], produces: json },
  runningPods: { methods: ['GET'], produces: json },
  statsSummary: { methods: ['GET', 'POST'], produces: json },
  checkpoint: { methods: ['POST'], produces: json },
  run: { methods: ['POST'], produces: [] },
  streaming: { methods: ['GET', 'POST'], produces: [] },
  containerLogs: { methods: ['GET'], produces: [] },
  systemLogs: { methods: ['GET'], produces: [] },
} satisfies Record<string, RestfulRoute>;

/**
 * go-restful's Route.matchesAccept: any comma-separated entry, its parameters cut at `;` and
 * spaces trimmed, that is `*∕*` or exactly one of the produced types (no `application/*`).
 */
export function matchesAccept(accept: string, produces: string[]): boolean {
  return accept.split(',').some((entry) => {
    const type = (entry.split(';')[0] ?? '').replace(/^ +| +$/g, '');
    return type === '*/*' || produces.some((produced) => produced === '*/*' || produced === type);
  });
}

/** A go-restful ServiceError: what the container writes with WriteErrorString (no newline). */
export interface RestfulRefusal {
  code: number;
  message: string;
  headers: Record<string, string>;
}

/**
 * go-restful's RouterJSR311.detectRoute once a route's path matched: a method the route does not
 * take is 405 `405: Method Not Allowed` with Allow; routes consume anything (the kubelet declares
 * no Consumes); an Accept (absent means `*∕*`) the route cannot produce is 406 `406: Not
 * Acceptable` and the types it can (`Available representations: …`).
 */
export function restfulRefusal(request: IncomingMessage, route: RestfulRoute): RestfulRefusal | undefined {
  if (!route.methods.includes(request.method ?? 'GET'))
    return {
      code: 405,
      message: '405: Method Not Allowed',
      headers: { Allow: route.methods.join(', ') },
    };
  // Go's Header.Get: the first Accept line; node joins repeated ones, so take the first of those.
  const accept = request.headersDistinct.accept?.[0] || '*/*';
  if (!matchesAccept(accept, route.produces))
    return {
      code: 406,
      message: `406: Not Acceptable\n\nAvailable representations: ${route.produces.join(', ')}`,
      headers: {},
    };
  return undefined;
}

/**
 * Writes {@link restfulRefusal}'s answer for `route` and returns true, or returns false when the
 * route takes the request.
 */
export function refuseForRoute(
  request: IncomingMessage,
  response: ServerResponse,
  route: RestfulRoute,
): boolean {
  const refusal = restfulRefusal(request, route);
  if (!refusal) return false;
  for (const [name, value] of Object.entries(refusal.headers)) response.setHeader(name, value);
  writeRestfulError(response, refusal.code, refusal.message);
  return true;
}
