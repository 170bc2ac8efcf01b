import { mkdir, readdir, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerLogFile } from '../src/logs/container-log-text';
import { upstreamServerLimits } from '../src/server/go-server-limits';
import {
  createKubeletServer,
  type KubeletServerOptions,
  listen,
  type RunningServer,
} from '../src/server/kubelet-server';
import { alwaysAllow } from '../src/server/server-auth';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';

// Regression tests for the kubelet-server CVE classes of #48: `..` and encoded traversal under
// /logs/ and /containerLogs, log files (or their directories) replaced by symlinks leading out of
// the log directory, oversized headers and slow requests against upstream's http.Server limits
// (ListenAndServeKubeletServer: MaxHeaderBytes 1 MiB, ReadTimeout/WriteTimeout 4 h, IdleTimeout
// 90 s). Every target is sent as written (node:http / node:net): fetch would normalise it.

const SECRET = 'host-secret-outside-the-log-directories';

let h: EngineHarness;
let server: RunningServer;
let queryServer: RunningServer;
let disabledServer: RunningServer;
let hurried: RunningServer;
let systemLogDir: string;
let appLog: string;

const pod = testPod(
  { containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'echo hello; sleep 3600'] }] },
  'web',
);

beforeAll(async () => {
  h = await startEngine();
  h.kubelet.addPod(pod);
  await h.kubelet.settle();
  // The outside world: a secret next to (not under) both log directories.
  await writeFile(join(h.dir, 'secret'), SECRET);
  await mkdir(join(h.dir, 'outside'), { recursive: true });
  await writeFile(join(h.dir, 'outside', '0.log'), `2026-01-01T00:00:00Z stdout F ${SECRET}\n`);
  systemLogDir = join(h.dir, 'var-log');
  await mkdir(join(systemLogDir, 'pods'), { recursive: true });
  await writeFile(join(systemLogDir, 'syslog'), 'node booted\n');
  await symlink(join(systemLogDir, 'syslog'), join(systemLogDir, 'pods', 'inside.log'));
  await symlink(join(h.dir, 'secret'), join(systemLogDir, 'out.log'));
  const uid = h.kubelet.getPods()[0]?.metadata.uid ?? '';
  appLog = containerLogFile(`${h.dir}/logs`, 'default', 'web', uid, 'app', 0);
  const base: KubeletServerOptions = {
    kubelet: h.kubelet,
    nodeName: 'node-a',
    podLogsDir: `${h.dir}/logs`,
    authenticate: async () => ({ name: 'admin', groups: ['system:masters'] }),
    authorize: alwaysAllow,
    systemLogs: { dir: systemLogDir, query: false },
  };
  server = await listen(createKubeletServer(base), 0, '127.0.0.1');
  queryServer = await listen(
    createKubeletServer({ ...base, systemLogs: { dir: systemLogDir, query: true } }),
    0,
    '127.0.0.1',
  );
  disabledServer = await listen(createKubeletServer({ ...base, systemLogs: false }), 0, '127.0.0.1');
  // Short read limits so a slow request meets them in this run; the checks wait for the close.
  hurried = await listen(
    createKubeletServer({
      ...base,
      limits: { readTimeoutMs: 200, writeTimeoutMs: 300, checkIntervalMs: 50, maxHeaderBytes: 4096 },
    }),
    0,
    '127.0.0.1',
  );
});

afterAll(async () => {
  for (const s of [server, queryServer, disabledServer, hurried]) await s?.close();
  await h?.close();
});

function get(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string; location?: string; type?: string }>(
    (resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers });
      request.on('response', (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          body += chunk;
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body,
            location: response.headers.location,
            type: response.headers['content-type'],
          }),
        );
      });
      request.on('error', reject);
      request.end();
    },
  );
}

/** Writes `bytes` on a raw connection and collects everything the server sends until it closes. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      received += chunk;
    });
    socket.on('close', () => resolve(received));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? resolve(received) : reject(error),
    );
  });
}

describe('/logs/ traversal (http.FileServer under http.StripPrefix, upstream v1.36)', () => {
  it('serves a file and a listing under the system log directory', async () => {
    expect(await get(server.port, '/logs/syslog')).toMatchObject({
      status: 200,
      body: 'node booted\n',
      type: 'text/plain; charset=utf-8',
    });
    const listing = await get(server.port, '/logs/');
    expect(listing.body).toContain('<a href="syslog">syslog</a>');
    expect(listing.body).toContain('<a href="pods/">pods/</a>');
    expect(await get(server.port, '/logs/pods')).toMatchObject({ status: 301, location: 'pods/' });
  });

  it('never climbs out with `..`: a plain one is the mux redirect, an encoded one is cleaned under the root', async () => {
    // Plain dots: Go's ServeMux redirects the unclean path before any handler.
    expect(await get(server.port, '/logs/../secret')).toMatchObject({ status: 301, location: '/secret' });
    for (const path of [
      '/logs/%2e%2e/secret',
      '/logs/%2E%2E/%2e%2e/secret',
      '/logs/pods/..%2F..%2Fsecret',
      '/logs/pods%2F%2e%2e%2F%2e%2e%2Fsecret',
      '/logs/.%2e/.%2e/secret',
    ]) {
      const answer = await get(server.port, path);
      expect({ path, status: answer.status, leaked: answer.body.includes(SECRET) }).toEqual({
        path,
        status: 404,
        leaked: false,
      });
    }
    // An escaped prefix is http.StripPrefix's 404 (the raw path does not start with /logs/).
    expect(await get(server.port, '/l%6Fgs/syslog')).toMatchObject({
      status: 404,
      body: '404 page not found\n',
    });
  });

  it('follows a symlink that stays under the root, refuses one leading out 403', async () => {
    expect(await get(server.port, '/logs/pods/inside.log')).toMatchObject({
      status: 200,
      body: 'node booted\n',
    });
    const out = await get(server.port, '/logs/out.log');
    expect({ status: out.status, body: out.body }).toEqual({ status: 403, body: '403 Forbidden\n' });
  });

  it('keeps a node log query inside the log directory, and answers 405 when the handler is off', async () => {
    // A file query is stat'ed under the directory with securejoin, which expands a symlink as if the
    // directory were `/`: an absolute target (even one inside) is looked for beneath it, not there.
    expect(await get(queryServer.port, '/logs/?query=/../secret')).toMatchObject({ status: 406 });
    expect(await get(queryServer.port, '/logs/?query=/out.log')).toMatchObject({ status: 406 });
    expect(await get(queryServer.port, '/logs/?query=/pods/inside.log')).toMatchObject({ status: 406 });
    expect(await get(queryServer.port, '/logs/?query=/syslog')).toMatchObject({
      status: 200,
      body: 'node booted\n',
    });
    // A service name that could smuggle a journalctl flag or a path is refused before any run.
    expect(await get(queryServer.port, '/logs/?query=--file%3D%2Fetc%2Fshadow')).toMatchObject({
      status: 406,
    });
    expect(await get(queryServer.port, '/logs/?query=a%20-f')).toMatchObject({ status: 406 });
    // Without enableSystemLogQuery the file server ignores the query, as upstream's does.
    expect(await get(server.port, '/logs/syslog?query=kubelet')).toMatchObject({ status: 200 });
    expect(await get(disabledServer.port, '/logs/syslog')).toMatchObject({
      status: 405,
      body: 'logs endpoint is disabled.\n',
    });
  });
});

describe('/containerLogs traversal and symlinked log files', () => {
  it('reads the container log (the baseline)', async () => {
    expect(await get(server.port, '/containerLogs/default/web/app')).toMatchObject({
      status: 200,
      body: 'hello\n',
    });
  });

  it('takes no path from the names: `..` and encoded slashes find no pod, container or route', async () => {
    const cases: [string, number][] = [
      ['/containerLogs/default/web/app/../../../../secret', 301],
      ['/containerLogs/default/web/%2e%2e', 404],
      ['/containerLogs/%2e%2e/web/app', 404],
      ['/containerLogs/default/%2e%2e%2F%2e%2e/app', 404],
      ['/containerLogs/default/web/app%2F..%2F..%2F..%2Fsecret', 404],
      ['/containerLogs/default/web/..%2F..%2Foutside', 404],
    ];
    for (const [path, status] of cases) {
      const answer = await get(server.port, path);
      expect({ path, status: answer.status, leaked: answer.body.includes(SECRET) }).toEqual({
        path,
        status,
        leaked: false,
      });
    }
  });

  it('refuses a log file replaced by a symlink to a file outside (O_NOFOLLOW), 400 as ReadLogs errors', async () => {
    await rename(appLog, `${appLog}.kept`);
    await symlink(join(h.dir, 'secret'), appLog);
    try {
      const answer = await get(server.port, '/containerLogs/default/web/app');
      expect(answer).toMatchObject({
        status: 400,
        body: `failed to open log file "${appLog}": open ${appLog}: too many levels of symbolic links`,
      });
    } finally {
      await rename(`${appLog}.kept`, appLog);
    }
    expect((await get(server.port, '/containerLogs/default/web/app')).body).toBe('hello\n');
  });

  it('refuses a log whose container directory became a symlink leading out of podLogsDir', async () => {
    const containerDir = join(appLog, '..');
    await rename(containerDir, `${containerDir}.kept`);
    await symlink(join(h.dir, 'outside'), containerDir);
    try {
      const answer = await get(server.port, '/containerLogs/default/web/app');
      expect({ status: answer.status, leaked: answer.body.includes(SECRET) }).toEqual({
        status: 400,
        leaked: false,
      });
      expect(answer.body).toContain(`outside ${h.dir}/logs`);
    } finally {
      await unlink(containerDir);
      await rename(`${containerDir}.kept`, containerDir);
    }
    expect(await readdir(containerDir)).toContain('0.log');
  });
});

describe("oversized headers and slow requests, as upstream's http.Server", () => {
  it("carries upstream's limits by default: 1 MiB of headers, 4 h to read, 90 s idle", () => {
    const defaults = createKubeletServer({
      kubelet: h.kubelet,
      nodeName: 'node-a',
      podLogsDir: `${h.dir}/logs`,
      authenticate: async () => undefined,
      authorize: alwaysAllow,
    });
    expect({
      // node:http keeps the option on the server; its types do not name it.
      maxHeaderSize: (defaults as unknown as { maxHeaderSize: number }).maxHeaderSize,
      requestTimeout: defaults.requestTimeout,
      headersTimeout: defaults.headersTimeout,
      keepAliveTimeout: defaults.keepAliveTimeout,
    }).toEqual({
      maxHeaderSize: (1 << 20) + 4096,
      requestTimeout: 4 * 3600_000,
      headersTimeout: 4 * 3600_000,
      keepAliveTimeout: 90_000,
    });
    expect(upstreamServerLimits.writeTimeoutMs).toBe(4 * 3600_000);
  });

  it('serves a 100 KiB header (Go reads up to 1 MiB; node:http would refuse past 16 KiB)', async () => {
    expect(await get(server.port, '/healthz', { 'X-Big': 'a'.repeat(100 * 1024) })).toMatchObject({
      status: 200,
      body: 'ok',
    });
  });

  it("answers headers over the limit with net/http's own 431, then closes", async () => {
    const received = await rawExchange(
      server.port,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat((1 << 20) + 8192)}\r\n\r\n`,
    );
    expect(received).toBe(
      'HTTP/1.0 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n' +
        'Connection: close\r\n\r\n431 Request Header Fields Too Large',
    );
  });

  it('closes a connection whose headers never finish once ReadTimeout passes, answering nothing', async () => {
    // Go's conn.serve returns on a read deadline without writing (no 408, unlike node:http).
    expect(await rawExchange(hurried.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n')).toBe('');
  });

  it('closes a request whose body never arrives once ReadTimeout passes', async () => {
    const received = await rawExchange(
      hurried.port,
      'POST /run/default/web/app HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ncmd=',
    );
    expect(received).not.toContain('hello');
  });

  it('cuts a response still being written once WriteTimeout passes (a followed log)', async () => {
    // Go's write deadline ends the connection; the follow would otherwise stream for ever.
    const received = await rawExchange(
      hurried.port,
      'GET /containerLogs/default/web/app?follow=true HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received).toContain('hello\n');
    expect(received.endsWith('0\r\n\r\n')).toBe(false);
  });

  it('answers a malformed request line 400 as net/http does', async () => {
    expect(await rawExchange(server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n')).toBe(
      'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request',
    );
  });
});
