import dgram from 'node:dgram';
import net from 'node:net';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';

/**
 * A /24 inside 127.0.0.0/8 picked per run (every 127.x address is local on Linux), so
 * parallel runs and other packages' tests never collide on an address:port.
 */
export function loopbackPrefix(): string {
  const a = 100 + Math.floor(Math.random() * 150);
  const b = 1 + Math.floor(Math.random() * 250);
  return `127.${a}.${b}`;
}

/** A port free on `host` right now (bound and released). */
export async function freePort(host: string): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen({ host, port: 0 }, resolve);
  });
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface Backend {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * TCP backend: each chunk received is answered with "<name>:<chunk>"; on the client's FIN it
 * writes "<name>:bytes=<n>" and ends (so half-close is observable).
 */
export async function tcpBackend(name: string, ip: string, port: number): Promise<Backend> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let bytes = 0;
    s.on('data', (d: Buffer) => {
      bytes += d.length;
      if (d.length <= 256) s.write(`${name}:${d.toString()}`);
    });
    s.on('end', () => s.end(`${name}:bytes=${bytes}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: ip, port }, resolve);
  });
  return {
    name,
    ip,
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** UDP backend answering each datagram with "<name>:<datagram>". */
export async function udpBackend(name: string, ip: string, port: number): Promise<Backend> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => socket.send(`${name}:${msg.toString()}`, rinfo.port, rinfo.address));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: ip, port }, resolve);
  });
  return {
    name,
    ip,
    port: socket.address().port,
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** A TCP client connection with line-free request/response helpers. */
export class TcpClient {
  private buffered = '';
  private waiters: (() => void)[] = [];
  ended = false;
  error: Error | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buffered += d;
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (err) => {
      this.error = err;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  static connect(host: string, port: number, localAddress?: string): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host,
        port,
        allowHalfOpen: true,
        ...(localAddress ? { localAddress } : {}),
      });
      socket.once('connect', () => resolve(new TcpClient(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until at least `n` characters arrived (or the stream ended), and takes them all. */
  async read(n: number, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffered.length < n && !this.ended && !this.error) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${n} chars, have ${JSON.stringify(this.buffered)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const out = this.buffered;
    this.buffered = '';
    return out;
  }

  /** Sends `text` and returns the reply (the backends prefix it with their name and a colon). */
  async request(text: string): Promise<string> {
    this.socket.write(text);
    return this.read(text.length + 2);
  }

  /** Waits for the stream to end or fail; returns what arrived meanwhile. */
  async untilClosed(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let out = '';
    while (!this.ended && !this.error) {
      if (Date.now() > deadline) throw new Error('timed out waiting for close');
      out += await this.read(Number.MAX_SAFE_INTEGER, deadline - Date.now()).catch(() => '');
    }
    return out + (await this.read(0));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One request on a fresh connection: which backend answered ("" if the connection failed). */
export async function whoAnswers(host: string, port: number, localAddress?: string): Promise<string> {
  let client: TcpClient;
  try {
    client = await TcpClient.connect(host, port, localAddress);
  } catch {
    return '';
  }
  try {
    const reply = await client.request('ping');
    return reply.split(':')[0] ?? '';
  } catch {
    return '';
  } finally {
    client.close();
  }
}

/** A UDP request/response from a fresh socket. */
export async function udpRequest(
  host: string,
  port: number,
  text: string,
  timeoutMs = 2000,
): Promise<string> {
  const socket = dgram.createSocket('udp4');
  try {
    return await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('UDP reply timed out')), timeoutMs);
      socket.once('message', (msg) => {
        clearTimeout(t);
        resolve(msg.toString());
      });
      socket.send(text, port, host);
    });
  } finally {
    socket.close();
  }
}

export function service(
  name: string,
  clusterIP: string,
  ports: { name: string; port: number; protocol?: string }[],
  spec: Partial<NonNullable<Wire<V1Service>['spec']>> = {},
): Wire<V1Service> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' })),
      ...spec,
    },
  };
}

export function endpointSlice(
  svc: string,
  ips: string[],
  ports: { name: string; port: number; protocol?: string }[],
  name = `${svc}-1`,
): Wire<V1EndpointSlice> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  };
}

/** A logger that collects `field` of each debug line whose message is `message`. */
export function debugField(message: string, field: string) {
  const values: string[] = [];
  const logger = {
    debug: (obj: object, msg?: string) => {
      if (msg === message) values.push(String((obj as Record<string, unknown>)[field]));
    },
    info() {},
    warn() {},
    error() {},
  };
  return { values, logger };
}
