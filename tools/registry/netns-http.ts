import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { Duplex, Writable } from 'node:stream';

/** One HTTP exchange with a server on loopback inside a network namespace. */
export interface NetnsHttpRequest {
  method: string;
  /** Path and query, e.g. `/v2/`. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

export interface NetnsHttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * A connection to `127.0.0.1:<port>` inside `netnsPath`: `busybox nc` started there, its stdin and
 * stdout as the socket. The test process stays in the host's namespace and never opens a host port.
 */
function netnsSocket(netnsPath: string, port: number): Duplex {
  const child = spawn('nsenter', [`--net=${netnsPath}`, 'busybox', 'nc', '127.0.0.1', String(port)], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  // busybox nc may quit as soon as its stdin ends, which can be before the server's answer has
  // come back (a busy machine's race: "Premature close"). The request's end therefore does not end
  // nc's stdin; nc ends when the server closes the connection (Connection: close), and is killed
  // when the socket closes.
  child.stdin.on('error', () => {});
  // A write nc can no longer take (EPIPE: it quit after the server answered early and closed,
  // e.g. a 401 before a pushed blob's body was all sent) is not the request's failure: the answer
  // is read from nc's stdout, and without one node:http fails the request itself ("socket hang
  // up"). Passed on, the EPIPE surfaced on a socket whose request was already done: uncaught.
  const toNc = new Writable({
    write: (chunk, encoding, callback) => child.stdin.write(chunk, encoding, () => callback()),
    final: (callback) => callback(),
  });
  const socket = Duplex.from({ readable: child.stdout, writable: toNc });
  socket.on('close', () => child.kill());
  // node:http sets these on a net.Socket; a pipe pair has no such options.
  Object.assign(socket, { setNoDelay: () => socket, setKeepAlive: () => socket, setTimeout: () => socket });
  return socket;
}

/**
 * Sends one request (Connection: close) to a server on loopback in `netnsPath` and reads the whole
 * answer. Throws on a transport failure, never on an HTTP status: callers check `status`.
 */
export function netnsHttp(
  netnsPath: string,
  port: number,
  req: NetnsHttpRequest,
): Promise<NetnsHttpResponse> {
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : Buffer.from(req.body);
    const headers: Record<string, string> = {
      host: `127.0.0.1:${port}`,
      connection: 'close',
      ...req.headers,
    };
    if (body) headers['content-length'] = String(body.length);
    const r = request(
      {
        method: req.method,
        path: req.path,
        headers,
        // No agent: with one (even `agent: false`) node:http ignores createConnection and dials itself.
        createConnection: () => netnsSocket(netnsPath, port) as never,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}
