import { BlockList, isIP } from 'node:net';
import { InvalidProxyError } from './errors';

/** One NO_PROXY entry: an address or network, or a domain, with an optional port. */
type NoProxyEntry =
  | { kind: 'all' }
  | { kind: 'ip'; list: BlockList; port: string }
  | { kind: 'domain'; suffix: string; matchHost: boolean; port: string };

/** The proxies of the environment, as Go's net/http reads them once per process. */
interface EnvironmentProxies {
  https: string;
  http: string;
  noProxy: NoProxyEntry[];
}

let read: EnvironmentProxies | undefined;

/** Go's IsLoopback: 127.0.0.0/8 and ::1, never proxied. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The first of `names` set to a non-empty value (Go's getEnvAny: upper case first). */
function env(...names: string[]): string {
  for (const name of names) {
    const value = process.env[name];
    if (value) return value;
  }
  return '';
}

function addressList(address: string, prefix?: number): BlockList {
  const list = new BlockList();
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (prefix === undefined) list.addAddress(address, family);
  else list.addSubnet(address, prefix, family);
  return list;
}

/** A host and port from `text` ("h:p", "[v6]:p"), or undefined when it has no port. */
function splitHostPort(text: string): { host: string; port: string } | undefined {
  const match = /^(\[[^\]]*\]|[^:]*):(\d*)$/.exec(text);
  return match ? { host: (match[1] as string).replace(/^\[|\]$/g, ''), port: match[2] as string } : undefined;
}

/** One NO_PROXY entry as Go's httpproxy parses it; undefined for one it ignores. */
function noProxyEntry(raw: string): NoProxyEntry | undefined {
  const text = raw.trim().toLowerCase();
  if (!text) return undefined;
  if (text === '*') return { kind: 'all' };
  const cidr = /^(.+)\/(\d{1,3})$/.exec(text);
  const prefix = Number(cidr?.[2]);
  const family = isIP(cidr?.[1] ?? '');
  if (cidr && family && prefix <= (family === 6 ? 128 : 32))
    return { kind: 'ip', list: addressList(cidr[1] as string, prefix), port: '' };
  const split = isIP(text) ? undefined : splitHostPort(text);
  const host = split ? split.host : text;
  const port = split ? split.port : '';
  if (!host) return undefined;
  if (isIP(host)) return { kind: 'ip', list: addressList(host), port };
  const name = host.startsWith('*.') ? host.slice(1) : host;
  const matchHost = !name.startsWith('.');
  return { kind: 'domain', suffix: matchHost ? `.${name}` : name, matchHost, port };
}

function environmentProxies(): EnvironmentProxies {
  read ??= {
    https: env('HTTPS_PROXY', 'https_proxy'),
    http: env('HTTP_PROXY', 'http_proxy'),
    noProxy: env('NO_PROXY', 'no_proxy')
      .split(',')
      .map(noProxyEntry)
      .filter((e): e is NoProxyEntry => e !== undefined),
  };
  return read;
}

/** Whether `entry` exempts `host` (lower case, brackets off) on `port`. */
function exempts(entry: NoProxyEntry, host: string, port: string): boolean {
  if (entry.kind === 'all') return true;
  const ip = isIP(host);
  if (entry.kind === 'ip') {
    if (!ip || !entry.list.check(host, ip === 6 ? 'ipv6' : 'ipv4')) return false;
  } else if (!host.endsWith(entry.suffix) && !(entry.matchHost && host === entry.suffix.slice(1))) {
    return false;
  }
  return entry.port === '' || entry.port === port;
}

/** The proxy schemes Go's transport speaks. */
const PROXY_SCHEMES = new Set(['http:', 'https:', 'socks5:', 'socks5h:']);

/**
 * A proxy's URL as Go's parseProxy takes it (a bare `host:port` is `http://host:port`); one it
 * cannot use fails the request, naming the variable, as Go's transport fails it.
 */
function proxyURL(value: string, variable: string): string {
  const parsed = URL.canParse(value) ? new URL(value) : undefined;
  const url = parsed?.host
    ? parsed
    : URL.canParse(`http://${value}`)
      ? new URL(`http://${value}`)
      : undefined;
  if (!url?.hostname) throw new InvalidProxyError(variable, value, 'not a proxy address');
  if (!PROXY_SCHEMES.has(url.protocol))
    throw new InvalidProxyError(
      variable,
      value,
      `unknown proxy scheme ${JSON.stringify(url.protocol.slice(0, -1))}`,
    );
  return url.href;
}

/**
 * The proxy a request to `server` (an API server's URL) goes through when its kubeconfig names
 * none, as client-go's transport asks Go's `http.ProxyFromEnvironment` (read once per process):
 * `HTTPS_PROXY` (or `https_proxy`) for https, `HTTP_PROXY` (or `http_proxy`) for http, a bare
 * `host:port` taken as http; none for localhost or a loopback address, nor for a host `NO_PROXY`
 * (or `no_proxy`) exempts: `*`, an address, a network (`10.0.0.0/8`), a domain and its
 * subdomains (`example.com`), its subdomains only (`.example.com`, `*.example.com`), each
 * optionally with a port. Undefined when the request goes direct.
 */
export function environmentProxyFor(server: string): string | undefined {
  const proxies = environmentProxies();
  if (!proxies.https && !proxies.http) return undefined;
  const url = URL.canParse(server) ? new URL(server) : undefined;
  const https = url?.protocol === 'https:';
  const value = https ? proxies.https : url?.protocol === 'http:' ? proxies.http : '';
  if (!url || !value) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || LOOPBACK.check(host, isIP(host) === 6 ? 'ipv6' : 'ipv4')) return undefined;
  const port = url.port || (https ? '443' : '80');
  if (proxies.noProxy.some((entry) => exempts(entry, host, port))) return undefined;
  return proxyURL(value, https ? 'HTTPS_PROXY' : 'HTTP_PROXY');
}

/** Reads the environment again at the next request (tests that set the variables). */
export function forgetEnvironmentProxies(): void {
  read = undefined;
}
