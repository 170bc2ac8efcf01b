/**
 * The path Go's url.Parse finds in a `scheme://authority/path` URL, with the errors it returns
 * for one it refuses, in its words. Only the part of net/url that EBS volume IDs
 * (`aws://zone/vol-…`) go through: the authority is checked, not kept; a bracketed (IPv6) host is
 * checked for its closing bracket and port only.
 */
import { goQuote } from '@nodeagent/primitives/go-text';
import { goQuoteBytes } from './go-format';

type Unescaping = 'host' | 'userinfo' | 'path' | 'fragment';

const HOST_PUNCTUATION = new Set('!$&\'()*+,;=:[]<>"-_.~');
const USERINFO_PUNCTUATION = new Set("-._:~!$&'()*+,;=%@");

function isAlphanumeric(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function isHex(code: number | undefined): boolean {
  return code !== undefined && /^[0-9a-fA-F]$/.test(String.fromCharCode(code));
}

/** Whether net/url's shouldEscape refuses this ASCII byte in a host. */
function refusedInHost(code: number): boolean {
  return code < 0x80 && !isAlphanumeric(code) && !HOST_PUNCTUATION.has(String.fromCharCode(code));
}

/** net/url's unescape: the text with %XX decoded, or its EscapeError / InvalidHostError. */
function unescapeUrlPart(text: string, mode: Unescaping): string | Error {
  const bytes = Buffer.from(text, 'utf8');
  const decoded: number[] = [];
  for (let at = 0; at < bytes.length; ) {
    const byte = bytes[at] ?? 0;
    if (byte === 0x25) {
      const escaped = bytes.subarray(at, at + 3);
      if (at + 2 >= bytes.length || !isHex(bytes[at + 1]) || !isHex(bytes[at + 2])) {
        return new Error(`invalid URL escape ${goQuoteBytes(escaped)}`);
      }
      const value = Number.parseInt(escaped.subarray(1).toString('latin1'), 16);
      // A host may %-encode only non-ASCII bytes, and %25 (a zone's percent sign).
      if (mode === 'host' && value >> 4 < 8 && escaped.toString('latin1') !== '%25') {
        return new Error(`invalid URL escape ${goQuoteBytes(escaped)}`);
      }
      decoded.push(value);
      at += 3;
      continue;
    }
    if (mode === 'host' && refusedInHost(byte)) {
      return new Error(`invalid character ${goQuote(String.fromCharCode(byte))} in host name`);
    }
    decoded.push(byte);
    at += 1;
  }
  return Buffer.from(decoded).toString('utf8');
}

function validOptionalPort(colonPort: string): boolean {
  return colonPort === '' || /^:[0-9]*$/.test(colonPort);
}

/** parseHost: a port made of digits only, then the host's characters and escapes. */
function checkHost(host: string): Error | undefined {
  if (host.startsWith('[')) {
    const close = host.lastIndexOf(']');
    if (close < 0) return new Error("missing ']' in host");
    const colonPort = host.slice(close + 1);
    return validOptionalPort(colonPort)
      ? undefined
      : new Error(`invalid port ${goQuote(colonPort)} after host`);
  }
  const colon = host.lastIndexOf(':');
  if (colon >= 0 && !validOptionalPort(host.slice(colon))) {
    return new Error(`invalid port ${goQuote(host.slice(colon))} after host`);
  }
  const unescaped = unescapeUrlPart(host, 'host');
  return unescaped instanceof Error ? unescaped : undefined;
}

/** parseAuthority: the host after the last '@', then the user information before it. */
function checkAuthority(authority: string): Error | undefined {
  const at = authority.lastIndexOf('@');
  const hostError = checkHost(at < 0 ? authority : authority.slice(at + 1));
  if (hostError || at < 0) return hostError;
  const userinfo = authority.slice(0, at);
  const valid = [...userinfo].every(
    (char) => isAlphanumeric(char.charCodeAt(0)) || USERINFO_PUNCTUATION.has(char),
  );
  if (!valid) return new Error('net/url: invalid userinfo');
  const colon = userinfo.indexOf(':');
  const parts = colon < 0 ? [userinfo] : [userinfo.slice(0, colon), userinfo.slice(colon + 1)];
  for (const part of parts) {
    const unescaped = unescapeUrlPart(part, 'userinfo');
    if (unescaped instanceof Error) return unescaped;
  }
  return undefined;
}

function hasControlByte(text: string): boolean {
  return [...text].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
}

/** The parse of the URL without its fragment: its unescaped path, or the error. */
function parsePath(url: string): string | Error {
  if (hasControlByte(url)) return new Error('net/url: invalid control character in URL');
  let rest = url.slice(url.indexOf(':') + 1);
  const questionMarks = rest.split('?').length - 1;
  rest = rest.endsWith('?') && questionMarks === 1 ? rest.slice(0, -1) : (rest.split('?')[0] ?? '');
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash < 0 ? '' : rest.slice(slash);
    const authorityError = checkAuthority(authority);
    if (authorityError) return authorityError;
  }
  return unescapeUrlPart(rest, 'path');
}

/** url.Parse(rawUrl).Path for a URL with a scheme, or url.Parse's *url.Error. */
export function goUrlPath(rawUrl: string): string | Error {
  const hash = rawUrl.indexOf('#');
  const url = hash < 0 ? rawUrl : rawUrl.slice(0, hash);
  const path = parsePath(url);
  if (path instanceof Error) return new Error(`parse ${goQuote(url)}: ${path.message}`);
  const fragment = hash < 0 ? '' : rawUrl.slice(hash + 1);
  const unescapedFragment = fragment === '' ? '' : unescapeUrlPart(fragment, 'fragment');
  if (unescapedFragment instanceof Error) {
    return new Error(`parse ${goQuote(rawUrl)}: ${unescapedFragment.message}`);
  }
  return path;
}
