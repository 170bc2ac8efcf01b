import type { RegisteredSubtrees } from './debugging-handlers';
import { cleanRooted } from './go-path-clean';
import {
  goEscapedPath,
  goEscapePath,
  goUnescapeBytes,
  goUnescapePath,
  hasInvalidPathEscape,
} from './go-url-path';
import { muxMatch } from './mux-patterns';

// How upstream's kubelet server takes a request target before any handler runs: Go's net/http
// parses it (url.ParseRequestURI) and go-restful's Container hands it to Go's ServeMux (the
// Go 1.22+ mux: Kubernetes v1.36's go.mod sets godebug default=go1.25, so httpmuxgo121 is off).
// ServeMux.findHandler cleans the *escaped* path, matches its slash-separated segments each
// decoded, redirects a subtree root without its slash and an unclean path, and otherwise hands
// the handler URL.Path, the decoded path, which the auth filter and go-restful route on.

/** The parts of a request target a handler reads: Go's URL.Path (decoded) and the query. */
export interface RequestTarget {
  /** URL.Path: the path with every escape decoded (`/p%6Fds` is `/pods`, `a%2Fb` is `a/b`). */
  readonly pathname: string;
  /**
   * URL.EscapedPath(): the path as sent when that is a valid encoding (http.StripPrefix reads
   * it); findHandler always sets it, a target built otherwise (a URL in a test) may not.
   */
  readonly escapedPathname?: string;
  /** `?` and the raw query, or '' without one. */
  readonly search: string;
  readonly searchParams: URLSearchParams;
}

/** What net/http and the mux do with a target: their own answer, or the handler's turn. */
export type MuxOutcome =
  | { kind: 'bad-request' }
  | { kind: 'redirect'; location: string }
  | { kind: 'not-found' }
  | { kind: 'handler'; target: RequestTarget };

/** ServeMux's cleanPath: rooted, cleaned, a trailing slash kept. */
export function goCleanPath(path: string): string {
  const rooted = path.startsWith('/') ? path : `/${path}`;
  const cleaned = cleanRooted(rooted);
  return rooted.endsWith('/') && cleaned !== '/' ? `${cleaned}/` : cleaned;
}

/**
 * The Location of ServeMux's RedirectHandler(u.String()) for u = url.URL{Path: path, RawQuery:
 * query}: the path escaped, then cleaned again by http.Redirect, which runs path.Clean over a
 * location without scheme or host and keeps its trailing slash. That second clean matters where
 * the decoded path cleans to the root: `/checkpoint/%2e%2e/..` is the subtree root `/` plus its
 * slash, `//`, which Go sends as `/`.
 */
function locationOf(pathBytes: Buffer, rawQuery: string): string {
  const escaped = goEscapePath(pathBytes);
  const cleaned = cleanRooted(escaped);
  const path = escaped.endsWith('/') && !cleaned.endsWith('/') ? `${cleaned}/` : cleaned;
  return `${path}${rawQuery ? `?${rawQuery}` : ''}`;
}

/**
 * ServeMux.findHandler for a request target (`request.url`) on upstream's kubelet mux:
 * - a malformed escape: net/http's 400, before the mux;
 * - a path no exact pattern matches whose form with a slash is a subtree root (`/runningpods`,
 *   `/running%70ods`): 301 to the *decoded* path cleaned, plus `/`, escaped again;
 * - an escaped path that cleaning changes (`//`, `/./`, `/../`; not `%2e%2e` nor `%2F`, which
 *   are not separators or dots until decoded): 301 to the cleaned *escaped* path, which
 *   url.URL.String escapes again, so `%XX` comes back as `%25XX` (golang/go#79897, Go 1.26);
 * - segments (split on the raw slashes, each decoded) no pattern matches: the mux's 404;
 * - else the handler, with the decoded path.
 */
export function findHandler(requestTarget: string, registered: RegisteredSubtrees): MuxOutcome {
  // The absolute form (`GET http://host/pods`) names the path after the authority.
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*/.exec(requestTarget)?.[0] ?? '';
  const rawTarget = requestTarget.slice(authority.length);
  const queryAt = rawTarget.indexOf('?');
  const rawPath = queryAt < 0 ? rawTarget : rawTarget.slice(0, queryAt);
  const rawQuery = queryAt < 0 ? '' : rawTarget.slice(queryAt + 1);
  if (hasInvalidPathEscape(rawPath)) return { kind: 'bad-request' };
  const escaped = goEscapedPath(rawPath === '' ? '/' : rawPath);
  const cleaned = goCleanPath(escaped);
  const segments = cleaned.slice(1).split('/').map(goUnescapePath);
  const match = muxMatch(segments, registered);
  if (match.redirectToSubtree) {
    const decoded = goCleanPath(goUnescapeBytes(rawPath).toString('latin1'));
    return { kind: 'redirect', location: locationOf(Buffer.from(`${decoded}/`, 'latin1'), rawQuery) };
  }
  if (cleaned !== escaped) return { kind: 'redirect', location: locationOf(Buffer.from(cleaned), rawQuery) };
  if (!match.matched) return { kind: 'not-found' };
  const search = rawQuery ? `?${rawQuery}` : '';
  return {
    kind: 'handler',
    target: {
      pathname: goUnescapePath(rawPath),
      escapedPathname: escaped,
      search,
      searchParams: new URLSearchParams(rawQuery),
    },
  };
}
