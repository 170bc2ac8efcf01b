import { readdir } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { openContained } from './contained-file';
import { writeGoHttpError } from './go-net-http';
import { cleanRooted } from './go-path-clean';
import type { RequestTarget } from './go-serve-mux';

// /logs/ as upstream v1.36's kubelet serves it with enableSystemLogHandler (the default) and the
// NodeLogQuery gate at its v1.36 default (beta, off): ServeLogs is
// http.StripPrefix("/logs/", http.FileServer(http.Dir("/var/log/"))). The file server's
// traversal guard is path.Clean("/" + name) joined under the root, so `..` (even decoded from
// `%2e%2e`) never climbs out of it. One guard more than upstream's: a symlink under the root is
// followed only while its target stays under the root (contained-file.ts); one leading out is
// answered as a permission error. Not served here: Range requests, If-Modified-Since, index.html.

/** The node log query's parameters (pkg/kubelet/kubelet_server_journal.go nodeLogQuery). */
const nodeLogQueryParameters = ['query', 'sinceTime', 'untilTime', 'tailLines', 'pattern', 'boot'];

/** What the system log handler serves and whether the node log query was asked for. */
export interface SystemLogOptions {
  /** The directory served (upstream's nodeLogDir, /var/log/). */
  dir: string;
  /** enableSystemLogQuery with the NodeLogQuery gate: the query this server does not implement. */
  query: boolean;
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
 * GET /logs/{path}: the file or directory listing under `options.dir`, as http.FileServer serves
 * it behind http.StripPrefix("/logs/"): a path whose escaped form does not start with /logs/ is
 * StripPrefix's 404; a directory without its slash and a file with one redirect 301.
 */
export async function serveSystemLogs(
  options: SystemLogOptions,
  target: RequestTarget,
  response: ServerResponse,
): Promise<void> {
  if (options.query && nodeLogQueryParameters.some((name) => target.searchParams.has(name)))
    return writeGoHttpError(
      response,
      501,
      'node log query (?query=…) is not implemented by this kubelet; ask for a file under /logs/ instead',
    );
  if (!(target.escapedPathname ?? target.pathname).startsWith('/logs/'))
    return writeGoHttpError(response, 404, '404 page not found');
  const upath = `/${target.pathname.slice('/logs/'.length)}`;
  if (upath.endsWith('/index.html')) return localRedirect(response, './', target.search);
  const name = cleanRooted(upath);
  const opened = await openContained(options.dir, join(options.dir, name), true);
  if ('refused' in opened)
    return opened.refused === 'outside'
      ? writeGoHttpError(response, 403, '403 Forbidden')
      : writeOpenError(response, opened.error);
  const { handle } = opened;
  try {
    const stat = await handle.stat();
    const base = name.split('/').at(-1) ?? '';
    if (stat.isDirectory() && !upath.endsWith('/'))
      return localRedirect(response, `${base || '.'}/`, target.search);
    if (!stat.isDirectory() && upath.endsWith('/'))
      return localRedirect(response, `../${base}`, target.search);
    const lastModified = new Date(Math.floor(stat.mtimeMs / 1000) * 1000).toUTCString();
    if (stat.isDirectory()) {
      // The opened directory itself, not the path again.
      const entries = await readdir(`/proc/self/fd/${handle.fd}`, { withFileTypes: true });
      const body = directoryListing(entries.map((e) => ({ name: e.name, dir: e.isDirectory() })));
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Last-Modified': lastModified });
      return void response.end(body);
    }
    const head = Buffer.alloc(Math.min(512, stat.size));
    await handle.read(head, 0, head.length, 0);
    response.writeHead(200, {
      'Accept-Ranges': 'bytes',
      'Content-Length': String(stat.size),
      'Content-Type': sniff(head),
      'Last-Modified': lastModified,
    });
    if (stat.size === 0) return void response.end();
    // The opened handle is what was checked: it is what is sent, up to the size announced.
    const stream = handle.createReadStream({ start: 0, end: stat.size - 1, autoClose: false });
    await new Promise<void>((resolve, reject) => {
      stream.on('error', reject);
      stream.on('end', resolve);
      response.on('close', resolve);
      stream.pipe(response);
    });
  } finally {
    await handle.close();
  }
}
