import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import { goDialError, goDialTimeout, joinHostPort } from '@nodeagent/primitives/go-text';
import { cancelledOutcome, onAbort } from './cancellation';
import { errorText } from './exec-probe';
import { LimitedBuffer } from './limit-output';
import { DEFAULT_PROBE_USER_AGENT, MAX_HTTP_REDIRECTS } from './probe-defaults';
import type { HTTPHeaderSpec, ProbeRunOutcome } from './probe-types';

/** One HTTP GET probe: URL parts, headers, timeout and user agent. */
export interface HttpProbeRequest {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  headers: readonly HTTPHeaderSpec[];
  timeoutMs: number;
  userAgent?: string;
  /**
   * Any answer is Success, whatever its status (a lifecycle hook's httpGet: upstream's handler
   * runner checks no status code, only that the request was answered).
   */
  anyStatusSucceeds?: boolean;
  /** Aborting ends the probe at once with Unknown "probe cancelled". */
  signal?: AbortSignal;
}

/**
 * One HTTP GET with the kubelet's rules: status 200–399 is Success, redirects are followed only
 * to the same host (a redirect elsewhere ends as Warning, which counts as success), the body is
 * read up to 10 KiB, TLS certificates are not verified, and the timeout covers the whole chain.
 */
export async function runHttpProbe(req: HttpProbeRequest): Promise<ProbeRunOutcome> {
  // One deadline for the whole redirect chain; destroying the live request is cheaper than an
  // AbortSignal listener per request.
  if (req.signal?.aborted) return cancelledOutcome();
  const deadline: Deadline = { expired: false, request: undefined, connected: false };
  let cancelled = false;
  const unsubscribe = onAbort(req.signal, () => {
    cancelled = true;
    deadline.request?.destroy(new Error('probe cancelled'));
  });
  const timer = setTimeout(() => {
    deadline.expired = true;
    deadline.request?.destroy(new Error('probe timeout'));
  }, req.timeoutMs);
  const headers = requestHeaders(req);
  const first = new URL(`${req.scheme}://${joinHostPort(req.host, req.port)}`);
  first.pathname = '';
  let url = new URL(req.path, first);
  let awaitingHeaders = true;
  try {
    for (let hops = 0; ; hops++) {
      awaitingHeaders = true;
      const res = await get(url, headers, deadline);
      awaitingHeaders = false;
      const body = await readBody(res, deadline);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location && isRedirect(status)) {
        const next = new URL(location, url);
        if (next.hostname !== first.hostname) {
          return { result: 'Warning', output: `Probe terminated redirects, Response body: ${body}` };
        }
        if (hops + 1 > MAX_HTTP_REDIRECTS) {
          return {
            result: 'Failure',
            output: `Get "${next.href}": stopped after ${MAX_HTTP_REDIRECTS} redirects`,
          };
        }
        url = next;
        continue;
      }
      if ((status >= 200 && status < 400) || req.anyStatusSucceeds)
        return { result: 'Success', output: body };
      return { result: 'Failure', output: `HTTP probe failed with statuscode: ${status}` };
    }
  } catch (err) {
    if (cancelled) return cancelledOutcome();
    if (deadline.expired) {
      // Go's http.Client error at its Timeout (upstream's prober sets it to timeoutSeconds), as the
      // event shows it: `Readiness probe failed: Get "…": context deadline exceeded (…)`; in the
      // dial, the dial's own `dial tcp …: i/o timeout`.
      const cause =
        awaitingHeaders && !deadline.connected
          ? goDialTimeout(...urlHostPort(url))
          : 'context deadline exceeded';
      const phase = awaitingHeaders
        ? 'exceeded while awaiting headers'
        : 'or context cancellation while reading body';
      return { result: 'Failure', output: `Get "${url.href}": ${cause} (Client.Timeout ${phase})` };
    }
    return { result: 'Failure', output: `Get "${url.href}": ${goTransportError(err, url)}` };
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
}

/**
 * What Go's http.Client says went wrong on the way to an answer: the dial's error (`dial tcp
 * 10.0.0.1:80: connect: connection refused`), `EOF` for a connection closed unanswered (Node's
 * "socket hang up"), Go's own words for an HTTPS request a plaintext server answered, otherwise
 * Node's message.
 */
function goTransportError(err: unknown, url: URL): string {
  const { syscall, code } = (err ?? {}) as { syscall?: string; code?: string };
  if (syscall === 'connect' || syscall === 'getaddrinfo') return goDialError(err, ...urlHostPort(url));
  if (code === 'ECONNRESET' && errorText(err) === 'socket hang up') return 'EOF';
  // A TLS client's first read was a plaintext HTTP answer (Go reads the record header "HTTP/").
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/.test(errorText(err)))
    return 'http: server gave HTTP response to HTTPS client';
  return errorText(err);
}

/** The host (IPv6 unbracketed) and port a URL dials. */
function urlHostPort(url: URL): [string, number] {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return [host, Number(url.port) || (url.protocol === 'https:' ? 443 : 80)];
}

interface Deadline {
  expired: boolean;
  request: ClientRequest | undefined;
  /** Whether the live request's TCP connection is open (a timeout before it is the dial's). */
  connected: boolean;
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** Probe headers as the kubelet sends them; a `Host` header overrides the request host. */
function requestHeaders(req: HttpProbeRequest): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  let hostHeader: string | undefined;
  for (const h of req.headers) {
    const key = h.name.toLowerCase();
    if (key === 'host') {
      hostHeader = h.value;
      continue;
    }
    const prev = headers[key];
    headers[key] = prev === undefined ? h.value : [...(Array.isArray(prev) ? prev : [prev]), h.value];
  }
  headers['user-agent'] ??= req.userAgent ?? DEFAULT_PROBE_USER_AGENT;
  headers['accept'] ??= '*/*';
  if (hostHeader !== undefined) headers['host'] = hostHeader;
  // Like the kubelet's transport with keep-alives disabled: one connection per probe.
  headers['connection'] = 'close';
  return headers;
}

/**
 * The TLS context of every HTTPS probe. A probe verifies no certificate (upstream's prober skips
 * verification), so the context trusts no CA; without one Node made a context per probe, each
 * given its root store: ~0.7 ms of CPU per HTTPS probe in Node 24, and kubeadm's kube-apiserver
 * static pod is probed over HTTPS every second.
 */
let probeTlsContext: SecureContext | undefined;
function probeTls(): SecureContext {
  probeTlsContext ??= createSecureContext({ ca: [] });
  return probeTlsContext;
}

function get(
  url: URL,
  headers: Record<string, string | string[]>,
  deadline: Deadline,
): Promise<IncomingMessage> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // Plain options rather than the URL object: skips Node's URL-to-options conversion.
    const r = send({
      protocol: url.protocol,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      method: 'GET',
      headers,
      agent: false,
      rejectUnauthorized: false,
      ...(url.protocol === 'https:' && { secureContext: probeTls() }),
    });
    deadline.request = r;
    deadline.connected = false;
    r.once('socket', (socket) => {
      if (!socket.connecting) deadline.connected = true;
      else socket.once('connect', () => (deadline.connected = true));
    });
    if (deadline.expired) r.destroy(new Error('probe timeout'));
    r.once('response', resolve);
    r.once('error', reject);
    r.end();
  });
}

function readBody(res: IncomingMessage, deadline: Deadline): Promise<string> {
  return new Promise((resolve, reject) => {
    const buf = new LimitedBuffer();
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      // Destroying the response after 10 KiB makes it emit 'aborted'/'error'; those are ignored now.
      res.destroy();
      if (err) reject(err);
      else resolve(buf.toString());
    };
    res.on('data', (chunk: Buffer) => {
      buf.push(chunk);
      if (buf.full) finish();
    });
    res.once('end', () => finish());
    res.once('error', (err) => finish(deadline.expired ? err : undefined));
    res.once('aborted', () => finish(new Error('response aborted')));
  });
}
