import { readdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { openContained } from './contained-file';
import { httpDate } from './go-http-date';
import { writeGoHttpError } from './go-net-http';
import { cleanRooted } from './go-path-clean';
import { goParseQuery } from './go-query-values';
import type { RequestTarget } from './go-serve-mux';
import { parseNodeLogQuery } from './node-log-query';
import { answerNodeLogQuery } from './node-log-query-route';
import { directoryNotModified, serveFileContent } from './serve-file-content';

// /logs/ as upstream v1.36's kubelet serves it with enableSystemLogHandler (the default):
// http.StripPrefix("/logs/", http.FileServer(http.Dir("/var/log/"))), and with
// enableSystemLogQuery (NodeLogQuery is GA and locked on in v1.36) the node log query in front
// of it (node-log-query-route.ts). The file server's traversal guard is path.Clean("/" + name)
// joined under the root, so `..` (even decoded from `%2e%2e`) never climbs out of it. One guard
// more than upstream's: a symlink under the root is followed only while its target stays under
// the root (contained-file.ts); one leading out is answered as a permission error. Files are
// answered as serveContent answers them (serve-file-content.ts: Range, conditional requests).
// Not served here: index.html in place of a listing (the file server's redirect of
// …/index.html is kept).

/** What the system log handler serves and whether the node log query was asked for. */
export interface SystemLogOptions {
  /** The directory served (upstream's nodeLogDir, /var/log/). */
  dir: string;
  /** enableSystemLogQuery with the NodeLogQuery gate: whether ?query=… is answered. */
  query: boolean;
  /** The PATH journalctl is looked up in for a service query; the kubelet's own when unset. */
  journalctlPath?: string;
}

/** net/http's localRedirect: 301 to a relative Location, the query kept, no body. */
function localRedirect(response: ServerResponse, location: string, search: string): void {
  response.writeHead(301, { Location: `${location}${search}` });
  response.end();
}

/** net/http's toHTTPError for an open or stat error. */
function writeOpenError(response: ServerResponse, error: NodeJS.ErrnoException): void {
  const [code, text] =
    error.code === 'ENOENT' || error.code === 'ENOTDIR'
      ? [404, '404 page not found']
      : error.code === 'EACCES' || error.code === 'EPERM'
        ? [403, '403 Forbidden']
        : [500, '500 Internal Server Error'];
  writeGoHttpError(response, code, text);
}

/** http.DetectContentType's outcome for a log: gzip, text, or bytes. */
function sniff(head: Buffer): string {
  if (head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'application/x-gzip';
  const binary = head.some(
    (b) => b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f),
  );
  return binary ? 'application/octet-stream' : 'text/plain; charset=utf-8';
}

/** fileServer's dirList: the entries sorted by name, directories with a slash, as links. */
function directoryListing(names: { name: string; dir: boolean }[]): string {
  const escapeHtml = (text: string) =>
    text.replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c] ?? c,
    );
  const lines = names
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ name, dir }) => {
      const shown = dir ? `${name}/` : name;
      return `<a href="${encodeURI(shown).replace(/[?#]/g, encodeURIComponent)}">${escapeHtml(shown)}</a>\n`;
    });
  return `<!doctype html>\n<meta name="viewport" content="width=device-width">\n<pre>\n${lines.join('')}</pre>\n`;
}

/**
 * GET /logs/{path}: with the query enabled, a node log query first; then the file or directory
 * listing under `options.dir`, as http.FileServer serves it behind http.StripPrefix("/logs/"):
 * a path whose escaped form does not start with /logs/ is StripPrefix's 404.
 */
export async function serveSystemLogs(
  options: SystemLogOptions,
  target: RequestTarget,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (!(target.escapedPathname ?? target.pathname).startsWith('/logs/'))
    return writeGoHttpError(response, 404, '404 page not found');
  let rest = target.pathname.slice('/logs/'.length);
  if (options.query) {
    const parsed = parseNodeLogQuery(goParseQuery(target.search.slice(1)));
    const outcome = await answerNodeLogQuery(
      parsed,
      rest,
      { dir: options.dir, journalctlPath: options.journalctlPath },
      request,
      response,
    );
    if (outcome.kind === 'answered') return;
    if (outcome.kind === 'file') rest = outcome.path;
  }
  return serveFile(options.dir, rest.startsWith('/') ? rest : `/${rest}`, target.search, request, response);
}

/**
 * fileHandler.ServeHTTP for the path `upath` (rooted): a directory without its slash and a file
 * with one redirect 301, a directory is listed, a file sent as serveContent sends it.
 */
async function serveFile(
  dir: string,
  upath: string,
  search: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (upath.endsWith('/index.html')) return localRedirect(response, './', search);
  const name = cleanRooted(upath);
  const opened = await openContained(dir, join(dir, name), true);
  if ('refused' in opened)
    return opened.refused === 'outside'
      ? writeGoHttpError(response, 403, '403 Forbidden')
      : writeOpenError(response, opened.error);
  const { handle } = opened;
  try {
    const stat = await handle.stat();
    const base = name.split('/').at(-1) ?? '';
    if (stat.isDirectory() && !upath.endsWith('/')) return localRedirect(response, `${base || '.'}/`, search);
    if (!stat.isDirectory() && upath.endsWith('/')) return localRedirect(response, `../${base}`, search);
    if (stat.isDirectory()) {
      if (directoryNotModified(request, response, stat.mtimeMs)) return;
      // The opened directory itself, not the path again.
      const entries = await readdir(`/proc/self/fd/${handle.fd}`, { withFileTypes: true });
      const body = directoryListing(entries.map((e) => ({ name: e.name, dir: e.isDirectory() })));
      response.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Last-Modified': httpDate(stat.mtimeMs),
      });
      return void response.end(body);
    }
    const head = Buffer.alloc(Math.min(512, stat.size));
    await handle.read(head, 0, head.length, 0);
    // The opened handle is what was checked: it is what is sent, up to the size it had.
    await serveFileContent(request, response, {
      handle,
      size: stat.size,
      mtimeMs: stat.mtimeMs,
      contentType: sniff(head),
    });
  } finally {
    await handle.close();
  }
}
