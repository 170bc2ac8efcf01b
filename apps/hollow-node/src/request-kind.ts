/** A request as the API server's apiserver_request_total labels it: verb and resource[/subresource]. */
export interface RequestKind {
  verb: string;
  resource: string;
}

/** The resource segments of an API path: after `/api/v1` or `/apis/<group>/<version>`, namespace dropped. */
function resourceSegments(pathname: string): string[] | undefined {
  const parts = pathname.split('/').filter(Boolean);
  let rest: string[];
  if (parts[0] === 'api') rest = parts.slice(2);
  else if (parts[0] === 'apis') rest = parts.slice(3);
  else return undefined;
  // namespaces/<ns>/<resource>...; `namespaces` and `namespaces/<ns>` are the namespaces resource.
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  return rest;
}

/** What apiserver_request_total would count `method path` as (LIST and WATCH apart from GET). */
export function requestKind(method: string, path: string): RequestKind {
  const url = new URL(path, 'http://x');
  const segments = resourceSegments(url.pathname);
  if (!segments || segments.length === 0) return { verb: method, resource: url.pathname };
  const [resource = '', name, subresource] = segments;
  const named = name !== undefined;
  let verb = method;
  if (method === 'GET') {
    if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') verb = 'WATCH';
    else verb = named ? 'GET' : 'LIST';
  }
  return { verb, resource: subresource ? `${resource}/${subresource}` : resource };
}
