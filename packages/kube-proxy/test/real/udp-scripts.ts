// Node one-liners the UDP packet tests run inside namespaces (`node -e SCRIPT args…`).

/** Answers each datagram on port 5353 with its first argument (the backend's name); prints "ready". */
export function udpServer(family: 'udp4' | 'udp6'): string {
  return `
const dgram = require('node:dgram');
const s = dgram.createSocket('${family}');
s.on('message', (m, r) => s.send(process.argv[1], r.port, r.address));
s.bind(5353, '${family === 'udp6' ? '::' : '0.0.0.0'}', () => process.stdout.write('ready\\n'));
`;
}

/**
 * Sends one datagram to argv[1]:argv[2] and prints the reply, or "timeout". From a fresh source
 * port (a new conntrack entry each time) unless `sourcePort` pins one, so that a test can see
 * an old conntrack entry steer the next datagram.
 */
export function udpClient(family: 'udp4' | 'udp6', opts: { sourcePort?: number; timeoutMs: number }): string {
  const send = "s.send('q', Number(process.argv[2]), process.argv[1])";
  return `
const dgram = require('node:dgram');
const s = dgram.createSocket('${family}');
const t = setTimeout(() => { process.stdout.write('timeout'); process.exit(0); }, ${opts.timeoutMs});
s.on('message', (m) => { clearTimeout(t); process.stdout.write(m.toString()); process.exit(0); });
${opts.sourcePort ? `s.bind(${opts.sourcePort}, () => ${send});` : `${send};`}
`;
}
