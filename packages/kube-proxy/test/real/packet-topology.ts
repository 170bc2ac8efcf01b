import type { ChildProcess } from 'node:child_process';
import { createVethPair, enableForwarding, type Netns, NetnsScope } from '@nodeagent/testing';

/**
 * A "node" namespace routing between a client namespace and backend namespaces, each
 * backend serving HTTP that answers with its own name. Nothing touches the host stack.
 */
export interface PacketTopology {
  node: Netns;
  client: Netns;
  backends: { name: string; ip: string; ip6: string; netns: Netns }[];
  /** The node's address on the client link (NodePort target). */
  nodeIP: string;
  /** Its IPv6 address (when created with ipv6). */
  nodeIP6: string;
  /** HTTP GET from the client; resolves with the body or an error string ("refused", "timeout", ...). */
  get(url: string): Promise<string>;
  cleanup(): Promise<void>;
}

const SERVER = `
const http = require('node:http');
const name = process.argv[1];
http.createServer((req, res) => { res.setHeader('Connection', 'close'); res.end(name); })
  .listen(8080, process.argv[2] === 'v6' ? '::' : '0.0.0.0', () => process.stdout.write('ready\\n'));
`;

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('backend did not start')), 10_000);
    child.stdout?.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`backend exited ${code}`)));
  });
}

export async function createPacketTopology(
  backendCount: number,
  opts: { ipv6?: boolean } = {},
): Promise<PacketTopology> {
  const v6 = opts.ipv6 ?? false;
  const scope = new NetnsScope('kp');
  try {
    const node = await scope.create();
    const client = await scope.create();
    await enableForwarding(node);
    if (v6) await node.exec('sysctl', ['-q', '-w', 'net.ipv6.conf.all.forwarding=1']);
    await createVethPair(
      { netns: node, addresses: ['10.250.1.1/24', ...(v6 ? ['fd00:250:1::1/64'] : [])] },
      { netns: client, addresses: ['10.250.1.2/24', ...(v6 ? ['fd00:250:1::2/64'] : [])] },
    );
    await client.exec('ip', ['route', 'add', 'default', 'via', '10.250.1.1']);
    if (v6) await client.exec('ip', ['-6', 'route', 'add', 'default', 'via', 'fd00:250:1::1']);
    const backends: PacketTopology['backends'] = [];
    for (let i = 0; i < backendCount; i++) {
      const b = await scope.create();
      const subnet = 11 + i;
      await createVethPair(
        { netns: node, addresses: [`10.250.${subnet}.1/24`, ...(v6 ? [`fd00:250:${subnet}::1/64`] : [])] },
        { netns: b, addresses: [`10.250.${subnet}.2/24`, ...(v6 ? [`fd00:250:${subnet}::2/64`] : [])] },
      );
      await b.exec('ip', ['route', 'add', 'default', 'via', `10.250.${subnet}.1`]);
      if (v6) await b.exec('ip', ['-6', 'route', 'add', 'default', 'via', `fd00:250:${subnet}::1`]);
      const name = `backend-${i}`;
      const child = b.spawn(process.execPath, ['-e', SERVER, name, v6 ? 'v6' : 'v4'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      await waitReady(child);
      backends.push({ name, ip: `10.250.${subnet}.2`, ip6: `fd00:250:${subnet}::2`, netns: b });
    }
    return {
      node,
      client,
      backends,
      nodeIP: '10.250.1.1',
      nodeIP6: 'fd00:250:1::1',
      async get(url) {
        const r = await client.exec('curl', ['-sS', '--max-time', '2', url], { allowFailure: true });
        if (r.exitCode === 0) return r.stdout.trim();
        // curl exit codes: 7 = could not connect (refused), 28 = timed out.
        if (r.exitCode === 7) return 'refused';
        if (r.exitCode === 28) return 'timeout';
        return `error ${r.exitCode}: ${r.stderr.trim().slice(0, 200)}`;
      },
      cleanup: () => scope.cleanup(),
    };
  } catch (err) {
    await scope.cleanup();
    throw err;
  }
}
