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
  const location = `${url.pathname}/${url.search}`;
  const readable = request.method === 'GET' || request.method === 'HEAD';
  response.writeHead(301, {
    Location: location,
    ...(readable ? { 'Content-Type': 'text/html; charset=utf-8' } : {}),
  });
  response.end(
    request.method === 'GET' ? `<a href="${htmlEscape(location)}">Moved Permanently</a>.\n\n` : undefined,
  );
}
