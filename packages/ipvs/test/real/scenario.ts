/**
 * Runs INSIDE the micro-VM (root, IPVS-capable kernel, nothing else using IPVS): exercises every
 * operation of @nodeagent/ipvs and records what the library saw next to what `ipvsadm` prints for
 * the same state. Prints one line `SCENARIO-RESULT <json>`; scenario.test.ts does the asserting.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { type Ipvs, IpvsError, openIpvs, type ServiceKey } from '../../src/index';

const sh = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });
const ipvsadm = (...args: string[]) => sh('ipvsadm', ...args);

async function errorOf(
  p: Promise<unknown>,
): Promise<{ name: string; code: string; message: string; field?: string } | null> {
  try {
    await p;
    return null;
  } catch (err) {
    if (!(err instanceof IpvsError)) throw err;
    return { name: err.name, code: err.code, message: err.message, field: (err as { field?: string }).field };
  }
}

const tcp = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const satisfies ServiceKey;
const udp6 = { protocol: 'udp', address: 'fd00::1', port: 53 } as const satisfies ServiceKey;
const fwm = { fwmark: 7 } as const satisfies ServiceKey;
const fwm6 = { fwmark: 9, family: 'ipv6' } as const satisfies ServiceKey;
const sctp = { protocol: 'sctp', address: '10.0.0.2', port: 3868 } as const satisfies ServiceKey;

async function services(ipvs: Ipvs, r: Record<string, unknown>) {
  r.info = await ipvs.getInfo();
  r.infoIpvsadm = ipvsadm('-Ln').split('\n')[0];
  await ipvs.addService({ ...tcp, scheduler: 'rr' });
  await ipvs.addService({ ...udp6, scheduler: 'wrr', flags: { persistent: true }, timeout: 60, netmask: 64 });
  await ipvs.addService({ ...fwm, scheduler: 'sh', flags: { shFallback: true, shPort: true } });
  await ipvs.addService({ ...fwm6, scheduler: 'mh' });
  await ipvs.addService({ ...sctp, scheduler: 'lc', flags: { onePacket: true } });
  r.added = { ours: await ipvs.listServices(), ipvsadm: ipvsadm('-Ln') };
  r.get = await ipvs.getService(udp6);
  r.exists = { tcp: await ipvs.serviceExists(tcp), missing: await ipvs.serviceExists({ ...tcp, port: 81 }) };
  await ipvs.updateService({
    ...tcp,
    scheduler: 'wlc',
    flags: { persistent: true },
    timeout: 120,
    netmask: 24,
  });
  r.updated = { ours: await ipvs.getService(tcp), ipvsadm: ipvsadm('-Ln', '-t', '10.0.0.1:80') };
}

async function destinations(ipvs: Ipvs, r: Record<string, unknown>) {
  await ipvs.addDestination(tcp, { address: '10.1.0.1', port: 8080, weight: 3 });
  await ipvs.addDestination(tcp, {
    address: '10.1.0.2',
    port: 8080,
    forwarding: 'direct-route',
    upperThreshold: 10,
    lowerThreshold: 2,
  });
  await ipvs.addDestination(tcp, {
    address: '10.1.0.3',
    port: 8080,
    forwarding: 'tunnel',
    tunnelType: 'gue',
    tunnelPort: 6080,
    tunnelFlags: { checksum: true },
  });
  await ipvs.addDestination(tcp, { address: '10.1.0.4', port: 8080, forwarding: 'local', weight: 0 });
  await ipvs.addDestination(udp6, { address: 'fd00::10', port: 5353, weight: 7 });
  await ipvs.addDestination(fwm, { address: '10.2.0.1', port: 0, forwarding: 'direct-route' });
  r.dests = {
    tcp: await ipvs.listDestinations(tcp),
    udp6: await ipvs.listDestinations(udp6),
    fwm: await ipvs.listDestinations(fwm),
    ipvsadm: ipvsadm('-Ln'),
    thresholds: ipvsadm('-Ln', '--thresholds', '-t', '10.0.0.1:80'),
    tunInfo: ipvsadm('-Ln', '--tun-info', '-t', '10.0.0.1:80'),
  };
  await ipvs.updateDestination(tcp, { address: '10.1.0.1', port: 8080, weight: 9, forwarding: 'masquerade' });
  await ipvs.deleteDestination(tcp, { address: '10.1.0.4', port: 8080 });
  r.destsAfter = { ours: await ipvs.listDestinations(tcp), ipvsadm: ipvsadm('-Ln', '-t', '10.0.0.1:80') };
}

async function errors(ipvs: Ipvs, r: Record<string, unknown>) {
  const before = ipvsadm('-Ln');
  r.errors = {
    duplicateService: await errorOf(ipvs.addService({ ...tcp, scheduler: 'rr' })),
    duplicateDest: await errorOf(ipvs.addDestination(tcp, { address: '10.1.0.1', port: 8080 })),
    deleteMissingService: await errorOf(ipvs.deleteService({ ...tcp, port: 81 })),
    getMissingService: await errorOf(ipvs.getService({ fwmark: 4242 })),
    deleteMissingDest: await errorOf(ipvs.deleteDestination(tcp, { address: '10.1.0.99', port: 8080 })),
    destOnMissingService: await errorOf(
      ipvs.addDestination({ ...tcp, port: 81 }, { address: '10.1.0.1', port: 80 }),
    ),
    unknownScheduler: await errorOf(ipvs.addService({ ...tcp, port: 82, scheduler: 'bogus' as 'rr' })),
    port0: await errorOf(ipvs.addService({ ...tcp, port: 0, scheduler: 'rr' })),
    port70000: await errorOf(ipvs.addService({ ...tcp, port: 70000, scheduler: 'rr' })),
    ipv6InIpv4: await errorOf(
      ipvs.addService({ protocol: 'tcp', address: 'fd00::5', port: 80, family: 'ipv4', scheduler: 'rr' }),
    ),
    ipv6DestOnIpv4Masq: await errorOf(ipvs.addDestination(tcp, { address: 'fd00::5', port: 80 })),
  };
  r.unchangedAfterErrors = ipvsadm('-Ln') === before;
}

async function timeouts(ipvs: Ipvs, r: Record<string, unknown>) {
  const initial = await ipvs.getTimeouts();
  const initialIpvsadm = ipvsadm('-Ln', '--timeout');
  await ipvs.setTimeouts({ tcp: 1000, tcpFin: 100, udp: 200 });
  const set = await ipvs.getTimeouts();
  const setIpvsadm = ipvsadm('-Ln', '--timeout');
  await ipvs.setTimeouts({ udp: 250 });
  r.timeouts = { initial, initialIpvsadm, set, setIpvsadm, partial: await ipvs.getTimeouts() };
}

/** client ns → director (VM root ns, VIP on lo) → two real servers in their own namespaces. */
async function packets(ipvs: Ipvs, r: Record<string, unknown>) {
  const tag = `${process.pid}`;
  const ns = { c: `na-ipvs-c-${tag}`, s1: `na-ipvs-s1-${tag}`, s2: `na-ipvs-s2-${tag}` };
  const link = (name: string, idx: number, hostIp: string, nsIp: string) => {
    sh('ip', 'netns', 'add', name);
    sh('ip', 'link', 'add', `vh${idx}`, 'type', 'veth', 'peer', 'name', `vn${idx}`);
    sh('ip', 'link', 'set', `vn${idx}`, 'netns', name);
    sh('ip', 'addr', 'add', `${hostIp}/24`, 'dev', `vh${idx}`);
    sh('ip', 'link', 'set', `vh${idx}`, 'up');
    sh('ip', '-n', name, 'addr', 'add', `${nsIp}/24`, 'dev', `vn${idx}`);
    sh('ip', '-n', name, 'link', 'set', `vn${idx}`, 'up');
    sh('ip', '-n', name, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', name, 'route', 'add', 'default', 'via', hostIp);
  };
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  link(ns.c, 0, '10.10.0.1', '10.10.0.2');
  link(ns.s1, 1, '10.20.1.1', '10.20.1.2');
  link(ns.s2, 2, '10.20.2.1', '10.20.2.2');
  sh('ip', 'addr', 'add', '10.99.0.1/32', 'dev', 'lo');
  for (const [i, name] of [ns.s1, ns.s2].entries()) {
    const dir = `/tmp/www${i + 1}`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/index.html`, `server${i + 1}\n`);
    sh('ip', 'netns', 'exec', name, 'busybox', 'httpd', '-p', '8080', '-h', dir);
  }
  const vip = { protocol: 'tcp', address: '10.99.0.1', port: 80 } as const satisfies ServiceKey;
  await ipvs.addService({ ...vip, scheduler: 'rr' });
  await ipvs.addDestination(vip, { address: '10.20.1.2', port: 8080 });
  await ipvs.addDestination(vip, { address: '10.20.2.2', port: 8080 });
  const before = (await ipvs.getService(vip)).stats;
  const responses: string[] = [];
  for (let i = 0; i < 6; i++) {
    // A distinct source port per request: IPVS may reuse a TIME_WAIT entry for a repeated 4-tuple,
    // which would not count as a new connection.
    const localPort = String(41000 + i);
    responses.push(
      sh(
        'ip',
        'netns',
        'exec',
        ns.c,
        'curl',
        '-sS',
        '--max-time',
        '5',
        '--local-port',
        localPort,
        'http://10.99.0.1/',
      ).trim(),
    );
  }
  // The kernel folds its per-CPU counters into the exported ones from a 2 s estimator timer:
  // wait until all six connections show and two reads a tick apart agree.
  let last = '';
  for (let i = 0; i < 15; i++) {
    const now = JSON.stringify((await ipvs.getService(vip)).stats, (_k, v) =>
      typeof v === 'bigint' ? `${v}` : v,
    );
    if (now === last && JSON.parse(now).connections === '6') break;
    last = now;
    await new Promise((res) => setTimeout(res, 2200));
  }
  r.packets = {
    before,
    responses,
    service: await ipvs.getService(vip),
    dests: await ipvs.listDestinations(vip),
    ipvsadm: ipvsadm('-Ln', '--stats', '--exact', '-t', '10.99.0.1:80'),
  };
  await ipvs.zeroCounters(vip);
  r.zeroed = {
    service: await ipvs.getService(vip),
    ipvsadm: ipvsadm('-Ln', '--stats', '--exact', '-t', '10.99.0.1:80'),
  };
  for (const name of Object.values(ns)) {
    try {
      const pids = sh('ip', 'netns', 'pids', name).split('\n').filter(Boolean);
      for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
    } catch {}
    sh('ip', 'netns', 'del', name);
  }
}

async function concurrency(ipvs: Ipvs, r: Record<string, unknown>) {
  await ipvs.flush();
  const keys = Array.from({ length: 300 }, (_, i) => ({
    protocol: 'udp' as const,
    address: `10.50.${i >> 8}.${i & 255}`,
    port: 53,
  }));
  // Adds, dumps and gets all in flight at once on one handle.
  const results = await Promise.all([
    ...keys.map((k) => ipvs.addService({ ...k, scheduler: 'rr' })),
    ipvs.listServices().then((l) => l.length),
    ...keys.map((k) => ipvs.addDestination(k, { address: '10.60.0.1', port: 53 })),
  ]);
  const listed = await ipvs.listServices();
  r.concurrency = {
    midwayListLength: results[keys.length],
    finalCount: listed.length,
    ipvsadmLines: ipvsadm('-Ln')
      .split('\n')
      .filter((l) => l.startsWith('UDP')).length,
    destCounts: [
      ...new Set(
        await Promise.all(keys.slice(0, 20).map(async (k) => (await ipvs.listDestinations(k)).length)),
      ),
    ],
  };
  await ipvs.flush();
  r.flushed = { ours: (await ipvs.listServices()).length, ipvsadm: ipvsadm('-Ln') };
}

/** A second handle on another network namespace, opened by path. */
async function otherNamespace(r: Record<string, unknown>) {
  const name = `na-ipvs-ns-${process.pid}`;
  sh('ip', 'netns', 'add', name);
  // With `lo` down a fresh namespace has no routing table to classify the real server's address,
  // and the kernel refuses the destination (EINVAL).
  sh('ip', '-n', name, 'link', 'set', 'lo', 'up');
  try {
    // This scenario runs bundled, with no relay/ beside it: the checkout's relay, by path (the
    // relay found beside the package is covered on the host, in netns-host.test.ts).
    const other = await openIpvs({
      netnsPath: `/run/netns/${name}`,
      relayPath: `${process.cwd()}/packages/ipvs/relay/netns-relay.mjs`,
    });
    try {
      await other.addService({ protocol: 'tcp', address: '10.77.0.1', port: 80, scheduler: 'rr' });
      await other.addDestination(
        { protocol: 'tcp', address: '10.77.0.1', port: 80 },
        { address: '10.78.0.1', port: 80 },
      );
      r.netns = {
        ours: await other.listServices(),
        dests: await other.listDestinations({ protocol: 'tcp', address: '10.77.0.1', port: 80 }),
        duplicate: await errorOf(
          other.addService({ protocol: 'tcp', address: '10.77.0.1', port: 80, scheduler: 'rr' }),
        ),
        inside: sh('ip', 'netns', 'exec', name, 'ipvsadm', '-Ln'),
        outside: ipvsadm('-Ln'),
      };
    } finally {
      other.close();
    }
  } finally {
    sh('ip', 'netns', 'del', name);
  }
}

async function main() {
  sh('modprobe', 'ip_vs');
  const r: Record<string, unknown> = {};
  const ipvs = await openIpvs();
  try {
    await services(ipvs, r);
    await destinations(ipvs, r);
    await errors(ipvs, r);
    await timeouts(ipvs, r);
    await ipvs.deleteService(fwm6);
    r.deleted = { exists: await ipvs.serviceExists(fwm6), ipvsadm: ipvsadm('-Ln') };
    await otherNamespace(r);
    await packets(ipvs, r);
    await concurrency(ipvs, r);
  } finally {
    ipvs.close();
  }
  const json = JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
  process.stdout.write(`SCENARIO-RESULT ${json}\n`);
}

// Not a top-level await: the test runs this bundle from a V8 code cache (CommonJS, which has none).
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
