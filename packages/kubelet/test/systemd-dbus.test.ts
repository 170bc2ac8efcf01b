import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DbusCallError, DbusConnection } from '../src/cgroups/dbus-connection';
import { splitSignature, WireReader, WireWriter } from '../src/cgroups/dbus-marshal';
import { type DbusMessage, encodeMessage, MessageType } from '../src/cgroups/dbus-message';
import { driverCgroupFilesystem } from '../src/cgroups/driver-cgroup-filesystem';
import {
  connectSystemd,
  DbusSystemdManager,
  SystemdJobTimeoutError,
  SystemdNotRunningError,
  SystemdUnreachableError,
} from '../src/cgroups/systemd-dbus';
import { parseSystemdVersion } from '../src/cgroups/systemd-manager';
import { sliceStartProperties } from '../src/cgroups/systemd-unit-properties';
import { type FakeAnswer, FakeDbusServer, jobRemoved } from './helpers/fake-dbus-server';

describe('D-Bus wire format', () => {
  it('splits signatures into complete types', () => {
    expect(splitSignature('ssa(sv)a(sa(sv))')).toEqual(['s', 's', 'a(sv)', 'a(sa(sv))']);
    expect(splitSignature('uoss')).toEqual(['u', 'o', 's', 's']);
    expect(() => splitSignature('a(s')).toThrow(/unclosed/);
  });

  it('encodes a method call byte for byte as the specification lays it out', () => {
    // ResetFailedUnit("a.slice"), serial 1, written out by hand: fixed header, five header fields
    // (each a struct aligned to 8 holding a code byte and a variant), padding to 8, the body.
    const str = (s: string) => {
      const b = Buffer.alloc(4 + s.length + 1);
      b.writeUInt32LE(s.length, 0);
      b.write(s, 4, 'ascii');
      return b;
    };
    const pad = (n: number) => Buffer.alloc(n);
    const expected = Buffer.concat([
      Buffer.from([0x6c, 1, 0, 1]), // 'l', method call, no flags, version 1
      Buffer.from([12, 0, 0, 0]), // body: 4 + 7 + 1
      Buffer.from([1, 0, 0, 0]), // serial
      Buffer.from([159, 0, 0, 0]), // header fields: bytes 16..175
      Buffer.from([1, 1, 0x6f, 0]), // PATH, signature "o"
      str('/org/freedesktop/systemd1'), // 20..50
      pad(6), // to 56
      Buffer.from([2, 1, 0x73, 0]), // INTERFACE, "s"
      str('org.freedesktop.systemd1.Manager'), // 60..97
      pad(7), // to 104
      Buffer.from([3, 1, 0x73, 0]), // MEMBER
      str('ResetFailedUnit'), // 108..128
      Buffer.from([6, 1, 0x73, 0]), // DESTINATION
      str('org.freedesktop.systemd1'), // 132..161
      pad(7), // to 168
      Buffer.from([8, 1, 0x67, 0]), // SIGNATURE, "g"
      Buffer.from([1, 0x73, 0]), // "s" → 175
      pad(1), // header padded to 176
      str('a.slice'),
    ]);
    const actual = encodeMessage({
      type: MessageType.methodCall,
      serial: 1,
      path: '/org/freedesktop/systemd1',
      interface: 'org.freedesktop.systemd1.Manager',
      member: 'ResetFailedUnit',
      destination: 'org.freedesktop.systemd1',
      signature: 's',
      body: ['a.slice'],
    });
    expect(actual.toString('hex')).toBe(expected.toString('hex'));
  });

  it('round-trips arrays of structs of variants, uint64 infinity and an empty array', () => {
    const w = new WireWriter();
    const props = sliceStartProperties('kubepods.slice', '-.slice', 2).map((p) => [p.name, p.value]);
    w.write('s', 'x');
    w.write('a(sv)', [...props, ['TasksMax', { signature: 't', value: 2n ** 64n - 1n }]]);
    w.write('a(sa(sv))', []);
    const r = new WireReader(w.bytes());
    expect(r.read('s')).toBe('x');
    const read = r.read('a(sv)') as [string, { signature: string; value: unknown }][];
    expect(read.at(-1)).toEqual(['TasksMax', { signature: 't', value: 18446744073709551615n }]);
    expect(read[1]).toEqual(['Wants', { signature: 'as', value: ['-.slice'] }]);
    expect(r.read('a(sa(sv))')).toEqual([]);
    expect(r.offset).toBe(w.length);
  });

  it('reads the systemd version as libcontainer does', () => {
    expect(parseSystemdVersion('252.38-1~deb12u1')).toBe(252);
    expect(parseSystemdVersion('v245.4-1.fc32')).toBe(245);
    expect(parseSystemdVersion('"245"')).toBe(245);
    expect(parseSystemdVersion('unknown')).toBe(-1);
  });
});

describe('connectSystemd (the systemd manager over D-Bus, against a fake peer)', () => {
  let dir: string;
  let servers: FakeDbusServer[];
  let managers: DbusSystemdManager[];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-sdbus-${process.pid}-`));
    await mkdir(join(dir, 'systemd-system'));
    servers = [];
    managers = [];
  });
  afterEach(async () => {
    for (const m of managers) await m.close();
    for (const s of servers) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function serve(name: string, handler: (call: DbusMessage) => FakeAnswer, authReply?: string) {
    const server = new FakeDbusServer(join(dir, name), handler, authReply);
    await server.listen();
    servers.push(server);
    return server;
  }

  /** systemd on its private socket (bus false) or behind a bus daemon (bus true). */
  async function systemd(bus: boolean, answers: (call: DbusMessage) => FakeAnswer | undefined) {
    const server = await serve(bus ? 'system_bus_socket' : 'private', (call) => {
      const special = answers(call);
      if (special) return special;
      if (call.member === 'Hello') return { signature: 's', body: [':1.42'] };
      return {};
    });
    const manager = await connectSystemd({
      runtimeDir: join(dir, 'systemd-system'),
      sockets: [
        { path: join(dir, 'system_bus_socket'), bus: true },
        { path: join(dir, 'private'), bus: false },
      ],
    });
    managers.push(manager);
    return { server, manager };
  }

  it('StartTransientUnit: authenticates as this uid, subscribes, sends name, mode, properties and no aux units, waits for the job', async () => {
    const { server, manager } = await systemd(false, (call) =>
      call.member === 'StartTransientUnit'
        ? {
            signature: 'o',
            body: ['/org/freedesktop/systemd1/job/7'],
            // The job's end in the same write as the reply: the manager must not miss it.
            signals: [jobRemoved(7, 'kubepods.slice', 'done')],
          }
        : undefined,
    );
    const props = sliceStartProperties('kubepods.slice', '-.slice', 2);
    expect(await manager.startTransientUnit('kubepods.slice', 'replace', props)).toBe('done');
    const uid = String(process.getuid?.() ?? 0);
    expect(server.authLines).toEqual([`AUTH EXTERNAL ${Buffer.from(uid).toString('hex')}`, 'BEGIN']);
    expect(server.calls.map((c) => c.member)).toEqual(['Subscribe', 'StartTransientUnit']);
    const start = server.calls[1]!;
    expect(start).toMatchObject({
      destination: 'org.freedesktop.systemd1',
      path: '/org/freedesktop/systemd1',
      interface: 'org.freedesktop.systemd1.Manager',
      signature: 'ssa(sv)a(sa(sv))',
    });
    expect(start.body).toEqual([
      'kubepods.slice',
      'replace',
      [
        ['Description', { signature: 's', value: 'libcontainer container kubepods.slice' }],
        ['Wants', { signature: 'as', value: ['-.slice'] }],
        ['MemoryAccounting', { signature: 'b', value: true }],
        ['CPUAccounting', { signature: 'b', value: true }],
        ['IOAccounting', { signature: 'b', value: true }],
        ['TasksAccounting', { signature: 'b', value: true }],
        ['DefaultDependencies', { signature: 'b', value: false }],
      ],
      [],
    ]);
  });

  it('StopUnit waits for a JobRemoved that comes later; SetUnitProperties sends runtime=true; Version is read once', async () => {
    const { server, manager } = await systemd(false, (call) => {
      if (call.member === 'StopUnit')
        return {
          signature: 'o',
          body: ['/org/freedesktop/systemd1/job/9'],
          laterSignals: [jobRemoved(9, 'x.slice', 'done')],
        };
      if (call.member === 'Get')
        return { signature: 'v', body: [{ signature: 's', value: '252.38-1~deb12u1' }] };
      return undefined;
    });
    expect(await manager.stopUnit('x.slice', 'replace')).toBe('done');
    await manager.setUnitProperties('x.slice', true, [
      { name: 'TasksMax', value: { signature: 't', value: 7n } },
    ]);
    expect(await manager.version()).toBe(252);
    expect(await manager.version()).toBe(252);
    const byMember = Object.fromEntries(server.calls.map((c) => [c.member, c]));
    expect(byMember.StopUnit).toMatchObject({ signature: 'ss', body: ['x.slice', 'replace'] });
    expect(byMember.SetUnitProperties).toMatchObject({
      signature: 'sba(sv)',
      body: ['x.slice', true, [['TasksMax', { signature: 't', value: 7n }]]],
    });
    expect(byMember.Get).toMatchObject({
      interface: 'org.freedesktop.DBus.Properties',
      signature: 'ss',
      body: ['org.freedesktop.systemd1.Manager', 'Version'],
    });
    expect(server.calls.filter((c) => c.member === 'Get')).toHaveLength(1);
  });

  it('a D-Bus error rejects with its name and text', async () => {
    const { manager } = await systemd(false, (call) =>
      call.member === 'ResetFailedUnit'
        ? { error: { name: 'org.freedesktop.systemd1.NoSuchUnit', message: 'Unit x.slice not loaded.' } }
        : undefined,
    );
    const error = await manager.resetFailedUnit('x.slice').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbusCallError);
    expect(error).toMatchObject({
      errorName: 'org.freedesktop.systemd1.NoSuchUnit',
      detail: 'Unit x.slice not loaded.',
    });
  });

  it('on the system bus: Hello, then AddMatch for JobRemoved, then Subscribe', async () => {
    const { server, manager } = await systemd(true, () => undefined);
    await manager.resetFailedUnit('y.slice');
    expect(server.calls.map((c) => c.member)).toEqual(['Hello', 'AddMatch', 'Subscribe', 'ResetFailedUnit']);
    expect(server.calls[1]!.body).toEqual([
      "type='signal',sender='org.freedesktop.systemd1',path='/org/freedesktop/systemd1',interface='org.freedesktop.systemd1.Manager',member='JobRemoved'",
    ]);
  });

  it('opens the connection again once when it was closed under it', async () => {
    const { server, manager } = await systemd(false, () => undefined);
    await manager.resetFailedUnit('a.slice');
    server.disconnectAll();
    // Whether the client notices the close before or during this call, it reconnects once.
    await manager.resetFailedUnit('b.slice');
    expect(server.calls.map((c) => c.member)).toEqual([
      'Subscribe',
      'ResetFailedUnit',
      'Subscribe',
      'ResetFailedUnit',
    ]);
  });

  it('a job systemd never finishes times out', async () => {
    const server = await serve('private', (call) =>
      call.member === 'StopUnit' ? { signature: 'o', body: ['/org/freedesktop/systemd1/job/3'] } : {},
    );
    const manager = new DbusSystemdManager(() => DbusConnection.open(server.path, { bus: false }), 20);
    managers.push(manager);
    const error = await manager.stopUnit('z.slice', 'replace').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SystemdJobTimeoutError);
    expect((error as Error).message).toBe(
      'timed out waiting for systemd job /org/freedesktop/systemd1/job/3',
    );
  });

  it("refuses with upstream's words when systemd is not PID 1 (no /run/systemd/system)", async () => {
    const error = await connectSystemd({ runtimeDir: join(dir, 'absent') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SystemdNotRunningError);
    expect(error).toMatchObject({ code: 'SYSTEMD_NOT_RUNNING', field: 'cgroupDriver', value: 'systemd' });
    const message = (error as Error).message;
    expect(message).toContain('systemd not running on this host, cannot use systemd cgroups manager');
    expect(message).toContain('cgroupDriver: cgroupfs');
    expect(message).toContain('SystemdCgroup = false');
    // The kubelet's startup path for the systemd driver says the same.
    const fromDriver = await driverCgroupFilesystem('systemd', {
      mountRoot: dir,
      systemd: { runtimeDir: join(dir, 'absent') },
    }).catch((e: unknown) => e);
    expect(fromDriver).toBeInstanceOf(SystemdNotRunningError);
  });

  it('names both sockets when systemd runs but neither answers', async () => {
    const error = await connectSystemd({
      runtimeDir: join(dir, 'systemd-system'),
      sockets: [
        { path: join(dir, 'no-bus'), bus: true },
        { path: join(dir, 'no-private'), bus: false },
      ],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SystemdUnreachableError);
    const message = (error as Error).message;
    expect(message).toContain(join(dir, 'no-bus'));
    expect(message).toContain(join(dir, 'no-private'));
    expect(message).toContain('cgroupDriver');
  });

  it('an authentication the peer refuses is an error naming the socket', async () => {
    const server = await serve('private', () => ({}), 'REJECTED EXTERNAL');
    const error = await connectSystemd({
      runtimeDir: join(dir, 'systemd-system'),
      sockets: [{ path: server.path, bus: false }],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SystemdUnreachableError);
    expect((error as Error).message).toContain('authentication refused: "REJECTED EXTERNAL"');
  });
});
