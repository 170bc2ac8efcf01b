/**
 * Upstream credentialprovider.URLsMatchStr: whether an image ("registry.io:5000/team/app") is
 * covered by a glob ("*.registry.io:5000/team"). Hosts match label by label (same number of
 * dot-separated labels, each a path.Match glob), the port must be equal (no wildcards), and the
 * glob's path must be a prefix of the image's path.
 */

export interface SchemelessURL {
  host: string;
  path: string;
}

/** A matchImages entry or auth key that cannot be read as a URL (upstream url.Parse's error). */
export class InvalidImageURLError extends Error {
  readonly url: string;

  constructor(url: string, reason: string) {
    super(`parse "https://${url}": ${reason}`);
    this.name = 'InvalidImageURLError';
    this.url = url;
  }
}

/** Upstream ParseSchemelessURL: parses `text` as if "https://" preceded it. */
export function parseSchemelessURL(text: string): SchemelessURL {
  if ([...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    throw new InvalidImageURLError(text, 'net/url: invalid control character in URL');
  const withoutFragment = text.split('#')[0]!.split('?')[0]!;
  const slash = withoutFragment.indexOf('/');
  let host = slash < 0 ? withoutFragment : withoutFragment.slice(0, slash);
  const path = slash < 0 ? '' : withoutFragment.slice(slash);
  const at = host.lastIndexOf('@');
  if (at >= 0) host = host.slice(at + 1);
  const colon = host.startsWith('[') ? host.indexOf(':', host.indexOf(']')) : host.lastIndexOf(':');
  if (colon >= 0) {
    const port = host.slice(colon);
    if (!/^:\d*$/.test(port))
      throw new InvalidImageURLError(text, `invalid port ${JSON.stringify(port)} after host`);
  }
  if (/%(?![0-9a-fA-F]{2})/.test(host)) {
    const bad = host.slice(host.search(/%(?![0-9a-fA-F]{2})/)).slice(0, 3);
    throw new InvalidImageURLError(text, `invalid URL escape ${JSON.stringify(bad)}`);
  }
  return { host, path };
}

/** Go's net.SplitHostPort, falling back to the whole host and no port as upstream does. */
function splitHost(host: string): { labels: string[]; port: string } {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d*)$/.exec(host);
  if (match) return { labels: (match[1] ?? match[2]!).split('.'), port: match[3]! };
  return { labels: host.split('.'), port: '' };
}

/** Go's path.Match for one host label: `*`, `?`, `[...]` classes (with `^` negation) and `\` escapes. */
export function globMatch(pattern: string, name: string): boolean {
  const match = (p: number, n: number): boolean => {
    while (p < pattern.length) {
      const c = pattern[p]!;
      if (c === '*') {
        while (pattern[p] === '*') p++;
        if (p === pattern.length) return !name.slice(n).includes('/');
        for (let i = n; i <= name.length; i++) {
          if (i > n && name[i - 1] === '/') break;
          if (match(p, i)) return true;
        }
        return false;
      }
      if (n >= name.length || name[n] === '/') return false;
      if (c === '?') {
        p++;
        n++;
        continue;
      }
      if (c === '[') {
        const end = pattern.indexOf(']', p + 2);
        if (end < 0) return false;
        let body = pattern.slice(p + 1, end);
        const negate = body.startsWith('^');
        if (negate) body = body.slice(1);
        const ch = name[n]!;
        let hit = false;
        for (let i = 0; i < body.length; i++) {
          let lo = body[i]!;
          if (lo === '\\') lo = body[++i] ?? '';
          let hi = lo;
          if (body[i + 1] === '-' && i + 2 < body.length) {
            hi = body[i + 2]!;
            if (hi === '\\') hi = body[i + 3] ?? '';
            i += hi === body[i + 2] ? 2 : 3;
          }
          if (lo <= ch && ch <= hi) hit = true;
        }
        if (hit === negate) return false;
        p = end + 1;
        n++;
        continue;
      }
      const literal = c === '\\' ? pattern[p + 1] : c;
      if (literal !== name[n]) return false;
      p += c === '\\' ? 2 : 1;
      n++;
    }
    return n === name.length;
  };
  return match(0, 0);
}

/** Upstream URLsMatch on parsed URLs. */
export function urlsMatch(glob: SchemelessURL, target: SchemelessURL): boolean {
  const g = splitHost(glob.host);
  const t = splitHost(target.host);
  if (g.port !== t.port) return false;
  if (g.labels.length !== t.labels.length) return false;
  if (!target.path.startsWith(glob.path)) return false;
  return g.labels.every((label, i) => globMatch(label, t.labels[i]!));
}

/** Upstream URLsMatchStr: false (not an error) for a target that does not parse. */
export function urlsMatchStr(glob: string, target: string): boolean {
  let g: SchemelessURL;
  let t: SchemelessURL;
  try {
    g = parseSchemelessURL(glob);
    t = parseSchemelessURL(target);
  } catch {
    return false;
  }
  return urlsMatch(g, t);
}
