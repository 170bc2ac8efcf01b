import { systemClock } from '@nodeagent/primitives';
import { afterEach, describe, expect, it } from 'vitest';
import { RoundRobinBalancer } from '../../src/userspace/round-robin-balancer';
import { TcpServiceProxy } from '../../src/userspace/tcp-service-proxy';
import { debugField, freePort, loopbackPrefix, TcpClient, tcpBackend, whoAnswers } from './loopback-helpers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A TCP proxy for one service port on <prefix>.1, picking from `balancer`. */
async function proxyOn(
  prefix: string,
  balancer: RoundRobinBalancer,
  dialTimeoutsMs: readonly number[],
  logger: ReturnType<typeof debugField>['logger'],
): Promise<{ host: string; port: number }> {
  const proxy = new TcpServiceProxy({
    servicePort: 'default/web:p',
    balancer,
    clock: systemClock,
    logger,
    maxConnections: 0,
    dialTimeoutsMs,
    udpIdleTimeoutMs: 250,
  });
  cleanups.push(() => proxy.destroy());
  const host = `${prefix}.1`;
  await proxy.listen([{ host, port: 0 }]);
  return { host, port: proxy.boundPorts()[0]! };
}

/** Blocks the event loop for `ms`, as a long GC pause or a starved CPU does. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('TcpServiceProxy dialling', () => {
  it('dials a sole refusing endpoint once per timeout, as upstream tryConnect, then resets', async () => {
    const prefix = loopbackPrefix();
    const endpointPort = await freePort(`${prefix}.9`);
    const balancer = new RoundRobinBalancer(systemClock);
    const endpoint = `${prefix}.9:${endpointPort}`;
    balancer.setEndpoints([{ ip: `${prefix}.9`, port: endpointPort, endpoint }]);
    const { values: failures, logger } = debugField('endpoint dial failed', 'endpoint');
    const proxy = await proxyOn(prefix, balancer, [5000, 5000, 5000, 5000], logger);
    expect(await whoAnswers(proxy.host, proxy.port)).toBe('');
    expect(failures).toEqual([endpoint, endpoint, endpoint, endpoint]);
  });

  it('keeps a connect the kernel finished when the dial timer fires late after a stalled loop', async () => {
    const prefix = loopbackPrefix();
    const backend = await tcpBackend('b0', `${prefix}.11`, 0);
    cleanups.push(() => backend.close());
    // The pick happens just before the proxy dials; the stall then runs in the same turn's
    // check phase, after the connect was sent, so the 1 ms timer is overdue next turn.
    class StallingBalancer extends RoundRobinBalancer {
      override pick(clientIP: string, exclude?: ReadonlySet<string>) {
        setImmediate(() => stall(50));
        return super.pick(clientIP, exclude);
      }
    }
    const balancer = new StallingBalancer(systemClock);
    const endpoint = `${prefix}.11:${backend.port}`;
    balancer.setEndpoints([{ ip: backend.ip, port: backend.port, endpoint }]);
    const { values: failures, logger } = debugField('endpoint dial failed', 'endpoint');
    const proxy = await proxyOn(prefix, balancer, [1], logger);
    const client = await TcpClient.connect(proxy.host, proxy.port);
    cleanups.push(() => client.close());
    expect(await client.request('one')).toBe('b0:one');
    expect(failures).toEqual([]);
  });
});
