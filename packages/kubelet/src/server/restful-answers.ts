import type { ServerResponse } from 'node:http';

/**
 * An error as go-restful's Response.WriteError writes it (upstream's kubelet routes answer
 * errors so): the status, the error's text without a newline, and the type Go's net/http
 * sniffs for it.
 */
export function writeRestfulError(response: ServerResponse, code: number, message: string): void {
  response.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(message);
}

/**
 * go-restful's answer when a web service's path matches none of its routes (`/run/ns/pod`):
 * 404 `404: Page Not Found`, unlike net/http's `404 page not found` for a path no service owns.
 */
export function restfulNotFound(response: ServerResponse): void {
  writeRestfulError(response, 404, '404: Page Not Found');
}

/**
 * upstream's writeJSONResponse: 200 with the bytes as application/json; no body and no
 * Content-Type when there are none (Go's nil slice).
 */
export function writeJsonBytes(response: ServerResponse, data: Buffer | string): void {
  if (data.length === 0) {
    response.writeHead(200);
    response.end();
    return;
  }
  response.writeHead(200, { 'Content-Type': 'application/json' });
  response.end(data);
}

/**
 * The segments of a go-restful route path under `base` (`/run/ns/pod/app` → [ns, pod, app]) of
 * the decoded path go-restful routes on (an escaped slash already separates segments there);
 * undefined when a segment is empty (no route matches it).
 */
export function routeSegments(path: string, base: string): string[] | undefined {
  if (!path.startsWith(`${base}/`)) return undefined;
  const segments = path.slice(base.length + 1).split('/');
  return segments.some((segment) => segment === '') ? undefined : segments;
}
