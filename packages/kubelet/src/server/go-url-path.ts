// A request path as Go's net/url holds it: the decoded bytes (URL.Path), the escaped form the
// mux matches (URL.EscapedPath), and Go's escaping for a Location (URL.String). Go strings are
// bytes; a decoded byte that is not UTF-8 (`%E0`) reads as U+FFFD here, once, at the end.

/** Whether `byte` is one shouldEscape(c, encodePath) leaves alone: unreserved, or `$&+,/:;=@`. */
function pathSafe(byte: number): boolean {
  const c = String.fromCharCode(byte);
  return /[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c);
}

/** The bytes of a path with each %XX decoded (every escape valid: see hasInvalidPathEscape). */
export function goUnescapeBytes(raw: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '%') {
      bytes.push(Number.parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(raw[i] as string));
  }
  return Buffer.from(bytes);
}

/** URL.Path: the raw path decoded (what handlers and upstream's auth filter read). */
export function goUnescapePath(raw: string): string {
  return goUnescapeBytes(raw).toString('utf8');
}

/** url.escape(s, encodePath): every byte but the path-safe ones as %XX, upper-case hex. */
export function goEscapePath(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes)
    out += pathSafe(byte)
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** validEncoded(s, encodePath): only path-safe characters, sub-delims, `[]` and `%`. */
function validEncoded(raw: string): boolean {
  for (const c of Buffer.from(raw))
    if (!pathSafe(c) && !"!'()*[]%".includes(String.fromCharCode(c))) return false;
  return true;
}

/**
 * URL.EscapedPath() of a request whose path was sent as `raw`: `raw` itself when it is a valid
 * encoding (RawPath, or the path needing no escapes), else the decoded bytes escaped again.
 * Go's ServeMux cleans and matches this form, not the decoded one.
 */
export function goEscapedPath(raw: string): string {
  return validEncoded(raw) ? raw : goEscapePath(goUnescapeBytes(raw));
}

/**
 * Whether Go's url.ParseRequestURI refuses the request target's path: a `%` not followed by two
 * hex digits. net/http then answers `400 Bad Request` itself, before any handler or filter.
 */
export function hasInvalidPathEscape(rawPath: string): boolean {
  return /%(?![0-9a-fA-F]{2})/.test(rawPath);
}
