import { webcrypto } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect as connectHttp2,
  constants,
  Http2ServerRequest,
  type IncomingHttpHeaders,
} from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { connect as connectTls, TLSSocket } from 'node:tls';
import { ecdsaP256, randomSerial, x509 } from '@nodeagent/primitives/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/index';

const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';

/** An HTTP/2 session to `server` over TLS, once connected (ALPN settled). */
async function h2Session(
  server: ApiServer,
  credentials: { cert?: string; key?: string } = {},
): Promise<ClientHttp2Session> {
  const session = connectHttp2(server.url, { ca: server.caCertificate, ...credentials });
  session.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    session.once('connect', () => resolve());
    session.once('error', reject);
  });
  return session;
}

/** One request on `session`: its status and body. */
function h2Request(
  session: ClientHttp2Session,
  path: string,
  method = 'GET',
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': method,
      ':path': path,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    });
    let status = 0;
    let text = '';
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
    });
    stream.on('end', () => resolve({ status, body: text }));
    stream.on('error', reject);
    stream.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A watch on its own stream of `session`: its response headers, and the lines read so far. */
async function h2Watch(
  session: ClientHttp2Session,
  path: string,
): Promise<{
  stream: ClientHttp2Stream;
  headers: IncomingHttpHeaders;
  lines: string[];
  closed: Promise<void>;
}> {
  const stream = session.request({ ':path': path });
  stream.on('error', () => undefined);
  const lines: string[] = [];
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('close', () => reject(new Error(`watch ${path} closed before its response`)));
  });
  return { stream, headers, lines, closed };
}

/** Resolves once `lines` holds a line that `matches`, checking on each chunk `stream` delivers. */
function lineSeen(
  stream: ClientHttp2Stream,
  lines: string[],
  matches: (line: string) => boolean,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const found = lines.find(matches);
      if (found === undefined) return false;
      stream.off('data', onData);
      resolve(found);
      return true;
    };
    const onData = (): void => {
      // The recording listener was added first, so `lines` already holds this chunk.
      check();
    };
    if (check()) return;
    stream.on('data', onData);
    stream.once('close', () => {
      if (!check()) reject(new Error(`stream closed before the line; lines: ${lines.join(' | ')}`));
    });
  });
}

/** GET over HTTP/1.1 (https, no ALPN offer of h2): status, protocol version and headers. */
function h1Get(
  server: Pick<ApiServer, 'url' | 'caCertificate'>,
  path: string,
): Promise<{ status: number; httpVersion: string; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${server.url}${path}`, { ca: server.caCertificate, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, httpVersion: res.httpVersion, headers: res.headers, body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** The protocol ALPN settles on when a client offers h2 and http/1.1, as Go's clients do. */
/** The SETTINGS_MAX_CONCURRENT_STREAMS `server` advertises on a new HTTP/2 connection. */
async function advertisedStreams(server: ApiServer): Promise<number | undefined> {
  const session = connectHttp2(server.url, { ca: server.caCertificate });
  try {
    const settings = await new Promise<{ maxConcurrentStreams?: number }>((resolve) =>
      session.once('remoteSettings', resolve),
    );
    return settings.maxConcurrentStreams;
  } finally {
    session.close();
  }
}

function negotiatedProtocol(server: ApiServer): Promise<string | false> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({
      host: '127.0.0.1',
      port: server.port,
      ca: server.caCertificate,
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    socket.once('secureConnect', () => {
      resolve(socket.alpnProtocol ?? false);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

const configMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });

describe('the API server over TLS: HTTP/2 beside HTTP/1.1', () => {
  let server: ApiServer;
  const users: { user: string; path: string }[] = [];

  beforeAll(async () => {
    server = await startApiServer({
      tls: true,
      audit: (user, _m, path) => users.push({ user: user.username, path }),
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers a list over HTTP/2 with :status 200, after offering h2 by ALPN', async () => {
    expect(await negotiatedProtocol(server)).toBe('h2');
    const session = await h2Session(server);
    try {
      expect(session.alpnProtocol).toBe('h2');
      const list = await h2Request(session, '/api/v1/namespaces');
      expect(list.status).toBe(200);
      expect(
        JSON.parse(list.body).items.map((n: { metadata: { name: string } }) => n.metadata.name),
      ).toContain('kube-system');
    } finally {
      session.close();
    }
  });

  it("advertises kube-apiserver's 100 concurrent streams per connection", async () => {
    expect(await advertisedStreams(server)).toBe(100);
  });

  it('streams watch events on one stream while other requests run on the same session', async () => {
    const session = await h2Session(server);
    try {
      const watch = await h2Watch(session, `${CONFIGMAPS}?watch=true`);
      expect(watch.headers[':status']).toBe(200);
      expect(watch.headers['content-type']).toBe('application/json');
      // Connection-specific headers are HTTP/1.1's only: an HTTP/2 answer carries none.
      expect(watch.headers['transfer-encoding']).toBeUndefined();
      const created = await h2Request(session, CONFIGMAPS, 'POST', configMap('h2-one'));
      expect(created.status).toBe(201);
      const added = await lineSeen(watch.stream, watch.lines, (l) => l.includes('"h2-one"'));
      expect(JSON.parse(added)).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'h2-one' } } });
      // The watch is still open: a read on the same session is answered beside it.
      expect((await h2Request(session, `${CONFIGMAPS}/h2-one`)).status).toBe(200);
      expect(watch.stream.closed).toBe(false);
      watch.stream.close();
      await watch.closed;
    } finally {
      session.close();
    }
  });

  it('still serves HTTP/1.1 clients, watches chunked as before', async () => {
    const list = await h1Get(server, '/api/v1/namespaces');
    expect(list.status).toBe(200);
    expect(list.httpVersion).toBe('1.1');
    const ended = await h1Get(server, `${CONFIGMAPS}?watch=true&timeoutSeconds=0`);
    expect(ended.status).toBe(200);
    expect(ended.headers['transfer-encoding']).toBe('chunked');
  });

  it('authenticates a client certificate signed by the cluster CA over HTTP/2', async () => {
    const ca = server.certificates?.ca;
    if (!ca) throw new Error('the certificate controllers are on by default');
    const trusted = await clientCertificate('CN=alice, O=team-a', ca);
    const withCert = await h2Session(server, trusted);
    const unknownCa = await clientCertificate('CN=mallory', undefined);
    const withUnknown = await h2Session(server, unknownCa);
    try {
      expect((await h2Request(withCert, '/api/v1/namespaces/default')).status).toBe(200);
      expect(users.at(-1)).toEqual({ user: 'alice', path: '/api/v1/namespaces/default' });
      // A second stream of the session carries the same certificate.
      expect((await h2Request(withCert, '/api/v1/namespaces/kube-system')).status).toBe(200);
      expect(users.at(-1)?.user).toBe('alice');
      expect((await h2Request(withUnknown, '/api/v1/namespaces/default')).status).toBe(401);
    } finally {
      withCert.close();
      withUnknown.close();
    }
  });

  it('drops a watch on HTTP/2 by resetting its stream only: the session goes on', async () => {
    const session = await h2Session(server);
    try {
      const first = await h2Watch(session, `${CONFIGMAPS}?watch=true`);
      const second = await h2Watch(session, '/api/v1/namespaces?watch=true');
      server.faults.dropWatches();
      await Promise.all([first.closed, second.closed]);
      expect(first.stream.rstCode).toBe(constants.NGHTTP2_CANCEL);
      expect(second.stream.rstCode).toBe(constants.NGHTTP2_CANCEL);
      expect(session.closed || session.destroyed).toBe(false);
      expect((await h2Request(session, '/api/v1/namespaces/default')).status).toBe(200);
    } finally {
      session.close();
    }
  });

  it('reports HTTP/1.1 and HTTP/2 requests to observeRequests, with one connection object per session', async () => {
    interface Seen {
      version: string;
      path: string;
      connection: Socket;
      /** req.socket, and for HTTP/2 req.stream.session.socket, read while the request is served. */
      socket: unknown;
      sessionSocket: unknown;
      /** The client's port, on `connection` and on HTTP/2's session.socket proxy. */
      remotePort: number | undefined;
      sessionRemotePort: number | undefined;
      http2: boolean;
    }
    const seen: Seen[] = [];
    /** The HTTP/2 connection's counters, read in its 'close' listener (as a byte counter would). */
    let h2Closed: Promise<{ written: number; read: number }> | undefined;
    const unsubscribe = server.observeRequests((request, _response, connection) => {
      const http2 = request instanceof Http2ServerRequest;
      if (http2)
        h2Closed ??= new Promise((resolve) =>
          connection.once('close', () =>
            resolve({ written: connection.bytesWritten, read: connection.bytesRead }),
          ),
        );
      seen.push({
        version: request.httpVersion,
        path: request.url ?? '',
        connection,
        socket: request.socket,
        sessionSocket: http2 ? request.stream.session?.socket : undefined,
        sessionRemotePort: http2 ? request.stream.session?.socket.remotePort : undefined,
        remotePort: connection.remotePort,
        http2,
      });
    });
    const session = await h2Session(server);
    try {
      await h1Get(server, '/api/v1/namespaces/default');
      await h2Request(session, '/api/v1/namespaces/kube-system');
      await h2Request(session, '/api/v1/namespaces/kube-public');
      unsubscribe();
      await h2Request(session, '/api/v1/namespaces/kube-node-lease');
    } finally {
      session.close();
    }
    expect(seen.map((s) => [s.version, s.http2, s.path])).toEqual([
      ['1.1', false, '/api/v1/namespaces/default'],
      ['2.0', true, '/api/v1/namespaces/kube-system'],
      ['2.0', true, '/api/v1/namespaces/kube-public'],
    ]);
    const [h1, h2a, h2b] = seen as [Seen, Seen, Seen];
    expect(h1.connection === h1.socket).toBe(true);
    // Every stream of the session reports the same object: the session's TLS socket itself…
    expect(h2a.connection === h2b.connection).toBe(true);
    expect(h2a.connection).toBeInstanceOf(TLSSocket);
    expect(h2a.connection === h1.connection).toBe(false);
    // …of which Node's session.socket is a proxy, cached: the same for both streams too; where
    // req.socket is a proxy of its own per stream.
    expect(h2a.sessionSocket === h2b.sessionSocket).toBe(true);
    expect(h2a.connection === h2a.sessionSocket).toBe(false);
    expect(h2a.socket === h2b.socket).toBe(false);
    expect(h2a.remotePort).toBe(h2b.remotePort);
    expect(h2a.remotePort).toBe(h2a.sessionRemotePort);
    expect(h2a.remotePort).not.toBe(h1.remotePort);
    expect(h2a.remotePort).toBeGreaterThan(0);
    // Once the session has closed, the connection still reads: its proxy would throw there.
    const counts = await h2Closed;
    expect(counts?.written).toBeGreaterThan(0);
    expect(counts?.read).toBeGreaterThan(0);
  });
});

describe('serve(listener) on a TLS server', () => {
  it("hands the listener's raw connections to the TLS handshake: HTTP/2 and HTTP/1.1 both work there", async () => {
    const server = await startApiServer({ tls: true, certificates: false });
    const extra = createNetServer();
    await new Promise<void>((resolve) => extra.listen(0, '127.0.0.1', resolve));
    const port = (extra.address() as AddressInfo).port;
    server.serve(extra);
    const session = connectHttp2(`https://127.0.0.1:${port}`, { ca: server.caCertificate });
    session.on('error', () => undefined);
    try {
      expect((await h2Request(session, '/api/v1/namespaces/default')).status).toBe(200);
      expect(session.alpnProtocol).toBe('h2');
      const h1 = await h1Get(
        { url: `https://127.0.0.1:${port}`, caCertificate: server.caCertificate },
        '/api/v1/namespaces/default',
      );
      expect([h1.status, h1.httpVersion]).toEqual([200, '1.1']);
    } finally {
      session.close();
      await server.close();
    }
  });
});

describe('the API server over TLS with http2: false', () => {
  let server: ApiServer;
  beforeAll(async () => {
    server = await startApiServer({ tls: true, http2: false, certificates: false });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('settles ALPN on http/1.1 for a client offering h2 first, and serves it', async () => {
    expect(await negotiatedProtocol(server)).toBe('http/1.1');
    const list = await h1Get(server, '/api/v1/namespaces');
    expect(list.status).toBe(200);
    expect(list.httpVersion).toBe('1.1');
  });
});

describe('HTTP/2 options', () => {
  it("takes http2MaxStreamsPerConnection (250, Go's limit before 2023) and rejects a bad one", async () => {
    await expect(startApiServer({ tls: true, http2MaxStreamsPerConnection: 0 })).rejects.toThrow(RangeError);
    const server = await startApiServer({
      tls: true,
      certificates: false,
      http2MaxStreamsPerConnection: 250,
    });
    try {
      expect(await advertisedStreams(server)).toBe(250);
    } finally {
      await server.close();
    }
  });
});

describe('close() with HTTP/2 sessions open', () => {
  it('ends an open watch stream for its client and resolves', async () => {
    const server = await startApiServer({ tls: true, certificates: false });
    const session = await h2Session(server);
    const watch = await h2Watch(session, `${CONFIGMAPS}?watch=true`);
    const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    expect(server.openWatches).toBe(1);
    await server.close();
    await Promise.all([watch.closed, sessionClosed]);
    expect(watch.stream.closed).toBe(true);
    expect(server.openWatches).toBe(0);
  });
});

/**
 * A client certificate and key for `subject`, signed by `ca` (the cluster CA), or self-signed
 * when `ca` is undefined (a certificate the server cannot verify).
 */
async function clientCertificate(
  subject: string,
  ca: { cert: x509.X509Certificate; privateKey: webcrypto.CryptoKey } | undefined,
): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(ecdsaP256, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: ca ? ca.cert.subject : subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3600_000),
    publicKey: keys.publicKey,
    signingKey: ca ? ca.privateKey : keys.privateKey,
    signingAlgorithm: ecdsaP256,
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}
