import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * net/http's http.Error: the status, `text/plain; charset=utf-8`, no sniffing, the message and a
 * newline. Upstream's handlers registered straight on the mux (the disabled-endpoint ones) answer so.
 */
export function writeGoHttpError(response: ServerResponse, code: number, message: string): void {
  response.writeHead(code, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(`${message}\n`);
}

/** Go's htmlEscape, as http.Redirect escapes the location it writes into its body. */
function htmlEscape(text: string): string {
  const entities: Record<string, string> = {
    '&': '&amp;',
    '<': '&lt;',
    '>': '&gt;',
    '"': '&#34;',
    "'": '&#39;',
  };
  return text.replace(/[&<>"']/g, (c) => entities[c] ?? c);
}

/**
 * Go's ServeMux for a subtree root asked without its slash (`/runningpods` where `/runningpods/`
 * is registered): http.Redirect with 301 to the path with the slash, the query kept. The mux does
 * this itself, before any handler or filter, so no authentication runs. Only GET and HEAD get a
 * Content-Type and only GET a body (`<a href="…">Moved Permanently</a>.` and two newlines).
 */
export function writeGoSubtreeRedirect(request: IncomingMessage, response: ServerResponse, url: URL): void {
  writeGoRedirect(request, response, `${url.pathname}/${url.search}`);
}

/** net/http's http.Redirect with 301 (see {@link writeGoSubtreeRedirect} for what it writes). */
export function writeGoRedirect(request: IncomingMessage, response: ServerResponse, location: string): void {
  const readable = request.method === 'GET' || request.method === 'HEAD';
  response.writeHead(301, {
    Location: location,
    ...(readable ? { 'Content-Type': 'text/html; charset=utf-8' } : {}),
  });
  response.end(
    request.method === 'GET' ? `<a href="${htmlEscape(location)}">Moved Permanently</a>.\n\n` : undefined,
  );
}

/**
 * Whether Go's url.ParseRequestURI refuses the request target's path: a `%` not followed by two
 * hex digits. net/http then answers `400 Bad Request` itself, before any handler or filter.
 */
export function hasInvalidPathEscape(target: string): boolean {
  const path = target.split('?')[0] ?? '';
  return /%(?![0-9a-fA-F]{2})/.test(path);
}

/** net/http's answer to a request it could not parse: 400, its plain text, and the connection closed. */
export function writeGoBadRequest(response: ServerResponse): void {
  response.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
  response.end('400 Bad Request');
}

/**
 * Go's path unescaping (every escape valid, see {@link hasInvalidPathEscape}): each %XX becomes
 * its byte, so a segment may hold bytes that are not UTF-8 (`%E0`), which decodeURIComponent
 * refuses; those read as U+FFFD here.
 */
export function goUnescapePath(segment: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < segment.length; i++) {
    if (segment[i] === '%') {
      bytes.push(Number.parseInt(segment.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(segment[i] as string));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Go's path.Clean for a rooted path: `.` and empty segments dropped, `..` eats its parent. */
function cleanRooted(path: string): string {
  const kept: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') kept.pop();
    else kept.push(segment);
  }
  return `/${kept.join('/')}`;
}

/** Go's ServeMux cleanPath: rooted, cleaned, a trailing slash kept. */
export function goCleanPath(path: string): string {
  const rooted = path.startsWith('/') ? path : `/${path}`;
  const cleaned = cleanRooted(rooted);
  return rooted.endsWith('/') && cleaned !== '/' ? `${cleaned}/` : cleaned;
}

/**
 * Where Go's ServeMux sends a request whose decoded path is not clean (`//`, `/./`, `/../`,
 * `%2e%2e`): the cleaned path, escaped again, with the raw query; undefined when it is clean.
 * The mux redirects 301 before any handler or filter runs.
 */
export function uncleanPathRedirect(target: string): string | undefined {
  const [rawPath = '', ...rest] = target.split('?');
  const decoded = goUnescapePath(rawPath);
  const cleaned = goCleanPath(decoded);
  if (cleaned === decoded) return undefined;
  const query = rest.length > 0 ? `?${rest.join('?')}` : '';
  return `${encodeURI(cleaned)}${query}`;
}
