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
 * net/http's http.Redirect with 301, as ServeMux answers a subtree root without its slash or an
 * unclean path (go-serve-mux.ts): before any handler or filter, so no authentication runs. Only
 * GET and HEAD get a Content-Type and only GET a body (`<a href="…">Moved Permanently</a>.` and
 * two newlines).
 */
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

/** net/http's answer to a request it could not parse: 400, its plain text, and the connection closed. */
export function writeGoBadRequest(response: ServerResponse): void {
  response.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
  response.end('400 Bad Request');
}
