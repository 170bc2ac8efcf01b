import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { criDebugRuntime } from '../src/server/debug-runtime';
import { subtreeRoots } from '../src/server/debugging-handlers';
import {
  createKubeletServer,
  type KubeletServerOptions,
  listen,
  type RunningServer,
} from '../src/server/kubelet-server';
import { alwaysAllow } from '../src/server/server-auth';
import { criStreamingRuntime } from '../src/server/streaming-runtime';
import { type EngineHarness, startEngine } from './helpers/engine';

// Property tests of the kubelet server's router with hostile request targets: known roots mixed
// with `..`, encoded dots and slashes, malformed and non-UTF-8 escapes, empty segments, odd
// methods and Accept headers. Upstream's answers these come from: Go's net/http (400 for a
// malformed escape; the path decoded), its ServeMux (301 for a subtree root or an unclean escaped
// path, 404 for no handler), the auth filter.

let h: EngineHarness;
let closed: RunningServer;
let open: RunningServer;

/** What no answer may ever contain: a file beside (not under) the served system log directory. */
const SECRET = 'fuzz-secret-beside-the-log-directory';

beforeAll(async () => {
  h = await startEngine();
  await mkdir(join(h.dir, 'var-log', 'pods', 'ns_p_u', 'c'), { recursive: true });
  await writeFile(join(h.dir, 'var-log', 'syslog'), 'booted\n');
  await writeFile(join(h.dir, 'var-log', 'pods', 'ns_p_u', 'c', '0.log'), 'line\n');
  await writeFile(join(h.dir, 'secret'), SECRET);
  await symlink(join(h.dir, 'secret'), join(h.dir, 'var-log', 'pods', 'escape.log'));
  await symlink(join(h.dir, 'secret'), join(h.dir, 'var-log', 'escape.log'));
  await symlink(h.dir, join(h.dir, 'var-log', 'escape-dir'));
  const base: KubeletServerOptions = {
    kubelet: h.kubelet,
    nodeName: 'node-a',
    podLogsDir: `${h.dir}/logs`,
    authenticate: async () => undefined,
    authorize: alwaysAllow,
    streaming: criStreamingRuntime(h.client),
    debugRuntime: criDebugRuntime(h.client),
    setVerbosity: () => undefined,
    configz: () => ({ maxPods: 110 }),
    systemLogs: { dir: join(h.dir, 'var-log'), query: false },
  };
  closed = await listen(createKubeletServer(base), 0, '127.0.0.1');
  open = await listen(
    createKubeletServer({
      ...base,
      authenticate: async () => ({ name: 'admin', groups: ['system:masters'] }),
    }),
    0,
    '127.0.0.1',
  );
});

afterAll(async () => {
  await closed?.close();
  await open?.close();
  await h?.close();
});

const words = ['pods', 'runningpods', 'exec', 'attach', 'portForward', 'containerLogs', 'run', 'checkpoint'];
words.push('stats', 'summary', 'metrics', 'resource', 'cadvisor', 'probes', 'healthz', 'ping', 'configz');
words.push('logs', 'debug', 'pprof', 'flags', 'v', 'statusz', 'default', 'web', 'app', 'x');
const hostile = ['..', '.', '%2e%2e', '%2E', '%2F', '%zz', '%4', '%E0', '%00', '', '%20', 'a%2Fb'];
const segment = fc.oneof(
  fc.constantFrom(...words),
  fc.constantFrom(...hostile),
  fc.stringMatching(/^[A-Za-z0-9._~-]{0,12}$/),
);
const target = fc
  .tuple(
    fc.array(segment, { maxLength: 6 }),
    fc.boolean(),
    fc.constantFrom('', '?cmd=ls', '?command=true&output=1', '?port=80', '?tailLines=1', '?x=%zz'),
  )
  .map(([segments, slash, query]) => `/${segments.join('/')}${slash ? '/' : ''}${query}`);
const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS');
const accept = fc.constantFrom(undefined, '*/*', 'application/json', 'application/xml', 'text/plain', '');

function send(port: number, verb: string, path: string, acceptHeader: string | undefined) {
  return new Promise<{ status: number; body: string; location?: string }>((resolve, reject) => {
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      method: verb,
      path,
      headers: acceptHeader === undefined ? {} : { Accept: acceptHeader },
    });
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, location: response.headers.location }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

const roots = subtreeRoots({ debuggingHandlers: true, checkpoint: true });

/** One raw segment decoded, a decoded slash kept apart ('\0') so it never reads as a separator. */
function decodeSegment(segment: string): string {
  return segment.replace(/%([0-9a-fA-F]{2})/g, (_, hex) => {
    const c = String.fromCharCode(Number.parseInt(hex, 16));
    return c === '/' ? '\0' : c;
  });
}

/** Paths an admitted caller is served, and `escapeSome` to percent-encode some of their letters. */
const servedPaths = ['/pods', '/healthz', '/healthz/ping', '/configz', '/metrics', '/metrics/probes'];
servedPaths.push('/runningpods/', '/stats/summary', '/containerLogs/default/nope/app', '/nope');
const escapeSome = (path: string, picks: boolean[]) =>
  [...path]
    .map((c, i) =>
      c !== '/' && picks[i % picks.length] ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : c,
    )
    .join('');

describe('the router under hostile request targets (fast-check)', () => {
  it('never serves an unauthenticated caller: only 400, 301 (subtree roots), 404 or 401', async () => {
    await fc.assert(
      fc.asyncProperty(method, target, accept, async (verb, path, acceptHeader) => {
        const { status, location } = await send(closed.port, verb, path, acceptHeader);
        expect([400, 301, 404, 401]).toContain(status);
        // A 301 is Go's mux: a subtree root gets its slash, an unclean path its cleaned form.
        // Both are judged on the escaped path: `%2e%2e` and `%2F` are not dots or slashes there.
        if (status === 301) {
          const rawPath = path.split('?')[0] as string;
          const unclean = /\/\/|\/\.\.?(\/|$)/.test(rawPath);
          const decodedSegments = rawPath.split('/').map(decodeSegment).join('/');
          expect(unclean || roots.includes(decodedSegments), `${path} -> ${location}`).toBe(true);
          expect(location?.split('?')[0]).not.toMatch(/\/\/|\/\.\.?(\/|$)/);
        }
        if (status === 400) expect(path.split('?')[0]).toMatch(/%(?![0-9a-fA-F]{2})/);
      }),
      { numRuns: 400 },
    );
  });

  it('answers a path with escaped letters as the path itself (Go decodes before matching)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...servedPaths),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        async (path, picks) => {
          const plain = await send(open.port, 'GET', path, undefined);
          const escaped = await send(open.port, 'GET', escapeSome(path, picks), undefined);
          expect({ path: escapeSome(path, picks), status: escaped.status }).toEqual({
            path: escapeSome(path, picks),
            status: plain.status,
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('never serves a byte from outside the system log directory under /logs/, whatever the path', async () => {
    const logSegment = fc.oneof(
      fc.constantFrom(
        '..',
        '.',
        '%2e%2e',
        '.%2e',
        '%2E.',
        '%2F',
        '..%2F',
        '%2e%2e%2F',
        'secret',
        'escape.log',
      ),
      fc.constantFrom('pods', 'ns_p_u', 'c', '0.log', 'syslog', '', '%00', 'index.html'),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(logSegment, { maxLength: 7 }), fc.boolean(), async (segments, slash) => {
        const path = `/logs/${segments.join('/')}${slash ? '/' : ''}`;
        const { status, body } = await send(open.port, 'GET', path, undefined);
        expect({ path, leaked: body.includes(SECRET) }).toEqual({ path, leaked: false });
        // A NUL is http.Dir's `invalid or unsafe file path`, which toHTTPError makes a 500.
        if (path.includes('%00') && status === 500) expect(body).toBe('500 Internal Server Error\n');
        else expect([200, 301, 403, 404], `${path} -> ${status}`).toContain(status);
      }),
      {
        numRuns: 300,
        // The escapes this directory holds, always tried besides the random paths.
        examples: [
          [['escape.log'], false],
          [['escape-dir', 'secret'], false],
          [['pods', 'escape.log'], false],
          [['%2e%2e', 'secret'], false],
        ],
      },
    );
  });

  it('answers an admitted caller without a 5xx when no pod exists, memory bounded', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    await fc.assert(
      fc.asyncProperty(method, target, accept, async (verb, path, acceptHeader) => {
        const { status, body } = await send(open.port, verb, path, acceptHeader);
        expect({ path, verb, status, body: status >= 500 ? body : '' }).toMatchObject({
          status: expect.any(Number),
        });
        // Go's one 5xx here: http.Dir refuses a NUL under /logs/ (toHTTPError's 500).
        const nulUnderLogs = /^\/logs\/[^?]*%00/.test(path) && body === '500 Internal Server Error\n';
        if (!nulUnderLogs) expect(status, `${verb} ${path} -> ${status} ${body}`).toBeLessThan(500);
      }),
      { numRuns: 400 },
    );
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 << 20);
  });
});
