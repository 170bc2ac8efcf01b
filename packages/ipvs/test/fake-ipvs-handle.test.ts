import { describe, expect, it } from 'vitest';
import {
  IpvsAlreadyExistsError,
  IpvsClosedError,
  type IpvsHandle,
  IpvsKernelError,
  IpvsNotFoundError,
} from '../src/index';
import { InvalidFieldError } from '../src/netlink/index';
import { FakeIpvsHandle } from '../src/testing/index';

const web = { protocol: 'tcp', address: '10.96.0.10', port: 80 } as const;

describe('FakeIpvsHandle', () => {
  it('adds services and destinations, lists them back and dumps them like ipvsadm -Ln', async () => {
    const ipvs: IpvsHandle = new FakeIpvsHandle();
    await ipvs.addService({ ...web, scheduler: 'rr' });
    await ipvs.addService({ fwmark: 7, scheduler: 'sh', flags: { persistent: true }, timeout: 60 });
    await ipvs.addService({ protocol: 'udp', address: '2001:0db8::0001', port: 53, scheduler: 'wrr' });
    await ipvs.addDestination(web, { address: '10.244.0.6', port: 8080, weight: 2 });
    await ipvs.addDestination(web, { address: '10.244.0.5', port: 8080, forwarding: 'direct-route' });

    const services = await ipvs.listServices();
    expect(services.map((s) => s.address ?? `fwm ${s.fwmark}`)).toEqual([
      '10.96.0.10',
      'fwm 7',
      '2001:db8::1',
    ]);
    expect(services[1]).toMatchObject({ timeout: 60, flags: { persistent: true, hashed: true } });
    expect((await ipvs.listDestinations(web)).map((d) => [d.address, d.weight, d.forwarding])).toEqual([
      ['10.244.0.6', 2, 'masquerade'],
      ['10.244.0.5', 1, 'direct-route'],
    ]);
    expect((ipvs as FakeIpvsHandle).dump()).toBe(
      [
        'IP Virtual Server version 1.2.1 (size=4096)',
        'Prot LocalAddress:Port Scheduler Flags',
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
        'TCP  10.96.0.10:80 rr',
        '  -> 10.244.0.5:8080              Route   1      0          0',
        '  -> 10.244.0.6:8080              Masq    2      0          0',
        'UDP  [2001:db8::1]:53 wrr',
        'FWM  7 sh persistent 60',
        '',
      ].join('\n'),
    );
  });

  it('answers EEXIST / ESRCH / ENOENT where the kernel does, and changes nothing then', async () => {
    const ipvs = new FakeIpvsHandle();
    await ipvs.addService({ ...web, scheduler: 'rr' });
    await ipvs.addDestination(web, { address: '10.244.0.5', port: 8080 });
    const before = ipvs.dump();

    const dup = ipvs.addService({ ...web, scheduler: 'wrr' });
    await expect(dup).rejects.toBeInstanceOf(IpvsAlreadyExistsError);
    await expect(dup).rejects.toMatchObject({ errno: 17, target: 'service TCP 10.96.0.10:80' });
    await expect(ipvs.addDestination(web, { address: '10.244.0.5', port: 8080 })).rejects.toMatchObject({
      code: 'IPVS_ALREADY_EXISTS',
    });
    const other = { ...web, port: 81 };
    await expect(ipvs.deleteService(other)).rejects.toMatchObject({ errnoName: 'ESRCH' });
    await expect(ipvs.addDestination(other, { address: '10.244.0.5', port: 1 })).rejects.toMatchObject({
      errnoName: 'ESRCH',
      target: 'destination 10.244.0.5:1 of service TCP 10.96.0.10:81',
    });
    await expect(ipvs.deleteDestination(web, { address: '10.244.0.9', port: 8080 })).rejects.toMatchObject({
      errnoName: 'ENOENT',
    });
    await expect(ipvs.getService(other)).rejects.toBeInstanceOf(IpvsNotFoundError);
    expect(ipvs.dump()).toBe(before);
  });

  it('validates like the real handle before touching the table', async () => {
    const ipvs = new FakeIpvsHandle();
    await expect(ipvs.addService({ ...web, port: 0, scheduler: 'rr' })).rejects.toMatchObject({
      field: 'service.port',
    });
    await ipvs.addService({ ...web, scheduler: 'rr' });
    await expect(ipvs.addDestination(web, { address: 'fd00::1', port: 80 })).rejects.toBeInstanceOf(
      InvalidFieldError,
    );
    await expect(ipvs.setTimeouts({ udp: -1 })).rejects.toMatchObject({ field: 'timeouts.udp' });
    expect(await ipvs.listDestinations(web)).toEqual([]);
  });

  it('updates merge flags through flagsMask, deleting a service drops its destinations', async () => {
    const ipvs = new FakeIpvsHandle();
    await ipvs.addService({ ...web, scheduler: 'rr', flags: { persistent: true, onePacket: true } });
    // Only the persistent bit (0x1) is written: one-packet stays set.
    await ipvs.updateService({ ...web, scheduler: 'lc', flags: {}, flagsMask: 0x1 });
    expect(await ipvs.getService(web)).toMatchObject({
      scheduler: 'lc',
      flags: { persistent: false, onePacket: true, hashed: true },
    });
    await ipvs.addDestination(web, { address: '10.244.0.5', port: 8080 });
    await ipvs.updateDestination(web, { address: '10.244.0.5', port: 8080, weight: 0 });
    expect((await ipvs.listDestinations(web))[0]?.weight).toBe(0);
    await ipvs.deleteService(web);
    await ipvs.addService({ ...web, scheduler: 'rr' });
    expect(await ipvs.listDestinations(web)).toEqual([]);
  });

  it('keeps the kernel timeouts (0 leaves one as it is), and refuses calls once closed', async () => {
    const ipvs = new FakeIpvsHandle();
    expect(await ipvs.getTimeouts()).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    await ipvs.setTimeouts({ tcp: 60, udp: 0 });
    expect(await ipvs.getTimeouts()).toEqual({ tcp: 60, tcpFin: 120, udp: 300 });
    await ipvs.flush();
    expect(await ipvs.listServices()).toEqual([]);
    ipvs.close();
    await expect(ipvs.listServices()).rejects.toBeInstanceOf(IpvsClosedError);
  });

  it('logs applied writes, fails the write failAfter names without applying it, and then works again', async () => {
    const ipvs = new FakeIpvsHandle();
    await ipvs.addService({ ...web, scheduler: 'rr' });
    await ipvs.addDestination(web, { address: '10.244.0.5', port: 8080 });
    // Refused writes (EEXIST) are not logged: they changed nothing.
    await expect(ipvs.addService({ ...web, scheduler: 'rr' })).rejects.toBeInstanceOf(IpvsAlreadyExistsError);
    ipvs.failAfter(1);
    await ipvs.setTimeouts({ tcp: 100 });
    const err = await ipvs
      .addDestination(web, { address: '10.244.0.6', port: 8080 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpvsKernelError);
    expect(err).toMatchObject({ errnoName: 'EIO', operation: 'add-destination' });
    expect((await ipvs.listDestinations(web)).map((d) => d.address)).toEqual(['10.244.0.5']);
    await ipvs.deleteDestination(web, { address: '10.244.0.5', port: 8080 });
    expect(ipvs.writes).toEqual([
      'add-service tcp/10.96.0.10:80',
      'add-destination tcp/10.96.0.10:80 10.244.0.5:8080',
      'set-timeouts tcp=100 tcpFin=120 udp=300',
      'delete-destination tcp/10.96.0.10:80 10.244.0.5:8080',
    ]);
    expect(() => ipvs.failAfter(-1)).toThrow(InvalidFieldError);
  });

  it('reports the connection counts a test sets, and keeps them across a destination update', async () => {
    const ipvs = new FakeIpvsHandle();
    await ipvs.addService({ ...web, scheduler: 'rr' });
    await ipvs.addDestination(web, { address: '10.244.0.5', port: 8080 });
    ipvs.setConnections(web, { address: '10.244.0.5', port: 8080 }, 3, 7);
    await ipvs.updateDestination(web, { address: '10.244.0.5', port: 8080, weight: 0 });
    expect(await ipvs.listDestinations(web)).toMatchObject([
      { address: '10.244.0.5', weight: 0, activeConnections: 3, inactiveConnections: 7 },
    ]);
    expect(() => ipvs.setConnections(web, { address: '10.244.0.9', port: 8080 }, 1, 1)).toThrow(
      IpvsNotFoundError,
    );
    expect(() =>
      ipvs.setConnections({ ...web, port: 81 }, { address: '10.244.0.5', port: 8080 }, 1, 1),
    ).toThrow(IpvsNotFoundError);
  });
});
