import { describe, expect, it } from 'vitest';
import {
  Ipvs,
  IpvsAlreadyExistsError,
  IpvsKernelError,
  IpvsNotFoundError,
  IpvsUnavailableError,
} from '../src/index';
import {
  constants,
  decodeGenl,
  type GenlTransport,
  InvalidFieldError,
  NetlinkErrnoError,
} from '../src/netlink/index';
import { RequestGate } from '../src/request-gate';

const FAMILY_ID = 0x22;

/** A kernel stand-in: answers the family lookup, then lets each test decide. */
class FakeTransport implements GenlTransport {
  sent: { type: number; flags: number; cmd: number; attrs: Map<number, Buffer> }[] = [];
  closed = false;
  constructor(private readonly answer: (cmd: number) => Promise<Buffer[]>) {}

  async request(type: number, flags: number, payload: Buffer): Promise<Buffer[]> {
    const { cmd, attrs } = decodeGenl(payload);
    if (type === constants.GENL_ID_CTRL) {
      const reply = Buffer.from('01020000060001002200000008000300' + '01000000', 'hex');
      return [reply];
    }
    this.sent.push({ type, flags, cmd, attrs });
    return this.answer(cmd);
  }
  close() {
    this.closed = true;
  }
}

const svc = { protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;

describe('Ipvs handle with an injected transport', () => {
  it('resolves the family and sends to its id', async () => {
    const t = new FakeTransport(async () => []);
    const ipvs = await Ipvs.open({ transport: t });
    expect(ipvs.familyId).toBe(FAMILY_ID);
    await ipvs.addService({ ...svc, scheduler: 'wrr' });
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]).toMatchObject({ type: FAMILY_ID, flags: 0, cmd: constants.IpvsCommand.NEW_SERVICE });
    await ipvs.listServices();
    expect(t.sent[1]).toMatchObject({
      cmd: constants.IpvsCommand.GET_SERVICE,
      flags: constants.NlmFlag.DUMP,
    });
  });

  it('maps a missing IPVS family to IpvsUnavailableError', async () => {
    const t: GenlTransport = {
      request: async () => {
        throw new NetlinkErrnoError(2, 'ENOENT');
      },
      close: () => {},
    };
    const err = await Ipvs.open({ transport: t }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpvsUnavailableError);
    expect((err as IpvsUnavailableError).code).toBe('IPVS_UNAVAILABLE');
  });

  it.each([
    [17, 'EEXIST', IpvsAlreadyExistsError, 'IPVS_ALREADY_EXISTS'],
    [3, 'ESRCH', IpvsNotFoundError, 'IPVS_NOT_FOUND'],
    [2, 'ENOENT', IpvsNotFoundError, 'IPVS_NOT_FOUND'],
    [22, 'EINVAL', IpvsKernelError, 'IPVS_KERNEL_ERROR'],
  ])('maps errno %i (%s) to a typed error naming the target', async (errno, name, cls, code) => {
    const t = new FakeTransport(async () => {
      throw new NetlinkErrnoError(errno, name);
    });
    const ipvs = await Ipvs.open({ transport: t });
    const err = await ipvs.addDestination(svc, { address: '10.1.0.1', port: 8080 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cls);
    expect(err).toMatchObject({ code, errno, errnoName: name });
    expect((err as Error).message).toContain('destination 10.1.0.1:8080 of service TCP 10.0.0.1:80');
  });

  it('serviceExists is false on ESRCH and true on a reply', async () => {
    let exists = false;
    const reply = Buffer.from('04010000' + '14000100' + '06000100020000000800050007000000', 'hex');
    const t = new FakeTransport(async () => {
      if (!exists) throw new NetlinkErrnoError(3, 'ESRCH');
      return [reply];
    });
    const ipvs = await Ipvs.open({ transport: t });
    expect(await ipvs.serviceExists({ fwmark: 7 })).toBe(false);
    exists = true;
    expect(await ipvs.serviceExists({ fwmark: 7 })).toBe(true);
  });

  it.each([
    [{ ...svc, scheduler: 'bogus' }, 'service.scheduler'],
    [{ ...svc, port: 0, scheduler: 'rr' }, 'service.port'],
    [{ ...svc, port: 70000, scheduler: 'rr' }, 'service.port'],
    [{ ...svc, address: 'fd00::1', family: 'ipv4', scheduler: 'rr' }, 'service.address'],
    [{ ...svc, address: '10.0.0.256', scheduler: 'rr' }, 'service.address'],
    [{ ...svc, protocol: 'icmp', scheduler: 'rr' }, 'service.protocol'],
    [{ fwmark: 0, scheduler: 'rr' }, 'service.fwmark'],
    [{ ...svc, netmask: 33, scheduler: 'rr' }, 'service.netmask'],
  ])('rejects bad service input %j before sending (%s)', async (spec, field) => {
    const t = new FakeTransport(async () => []);
    const ipvs = await Ipvs.open({ transport: t });
    // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid input
    const err = await ipvs.addService(spec as any).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidFieldError);
    expect((err as InvalidFieldError).field).toBe(field);
    expect(t.sent).toHaveLength(0);
  });

  it('rejects an IPv6 destination for an IPv4 masquerade service', async () => {
    const t = new FakeTransport(async () => []);
    const ipvs = await Ipvs.open({ transport: t });
    await expect(ipvs.addDestination(svc, { address: 'fd00::2', port: 80 })).rejects.toThrow(
      InvalidFieldError,
    );
    await expect(ipvs.addDestination(svc, { address: '10.1.0.1', port: 80, weight: -1 })).rejects.toThrow(
      /weight/,
    );
    expect(t.sent).toHaveLength(0);
  });

  it('close() closes the transport', async () => {
    const t = new FakeTransport(async () => []);
    (await Ipvs.open({ transport: t })).close();
    expect(t.closed).toBe(true);
  });
});

describe('RequestGate', () => {
  it('caps requests in flight and runs dumps alone', async () => {
    const gate = new RequestGate(3);
    let active = 0;
    let maxActive = 0;
    let activeDuringDump = -1;
    const releases: (() => void)[] = [];
    const job = (exclusive: boolean) =>
      gate.run(async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        if (exclusive) activeDuringDump = active;
        await new Promise<void>((r) => releases.push(r));
        active--;
      }, exclusive);
    const all = [job(false), job(false), job(false), job(false), job(true), job(false)];
    // Drain: release whatever is running until everything settled.
    for (let i = 0; i < 50 && releases.length + active > 0; i++) {
      await new Promise((r) => setImmediate(r));
      for (const release of releases.splice(0)) release();
    }
    await Promise.all(all);
    expect(maxActive).toBe(3);
    expect(activeDuringDump).toBe(1);
  });
});
