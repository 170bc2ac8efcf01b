import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPluginApiError } from '../src/plugin-api-error';
import { isPluginCallError, type PluginCallError } from '../src/plugin-call-error';
import { PluginConnection } from '../src/plugin-connection';
import { type RegistrationV1Server, registrationV1Service } from '../src/registration-v1';
import { RegistrationV1Client } from '../src/registration-v1-client';

let dir: string;
let server: grpc.Server;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plugin-api-reg-'));
  const registration: RegistrationV1Server = {
    GetInfo: (_call, done) =>
      done(null, { type: 'CSIPlugin', name: 'hostpath.csi.k8s.io', supportedVersions: ['1.0.0'] }),
    // Never answers: the caller's deadline ends the call.
    NotifyRegistrationStatus: () => {},
  };
  server = new grpc.Server();
  server.addService(registrationV1Service, registration);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${join(dir, 'reg.sock')}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
});

afterAll(() => {
  server?.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<PluginCallError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isPluginCallError(e)) throw new Error(`expected a PluginCallError, got ${String(e)}`);
  return e;
}

describe('RegistrationV1Client', () => {
  it('reads GetInfo with every field present (an empty endpoint means this socket)', async () => {
    const client = new RegistrationV1Client(join(dir, 'reg.sock'));
    try {
      expect(await client.getInfo()).toEqual({
        type: 'CSIPlugin',
        name: 'hostpath.csi.k8s.io',
        endpoint: '',
        supportedVersions: ['1.0.0'],
      });
    } finally {
      client.close();
    }
  });

  it('fails NotifyRegistrationStatus at its deadline as upstream prints it', async () => {
    const client = new RegistrationV1Client(`unix://${join(dir, 'reg.sock')}`);
    try {
      const e = await failure(
        client.notifyRegistrationStatus({ pluginRegistered: false, error: 'no handler' }, 300),
      );
      expect(e.code).toBe('DEADLINE_EXCEEDED');
      expect(e.rpc).toBe('NotifyRegistrationStatus');
      expect(e.message).toBe(
        `NotifyRegistrationStatus at unix://${join(dir, 'reg.sock')}: rpc error: code = DeadlineExceeded desc = context deadline exceeded after 300 ms`,
      );
    } finally {
      client.close();
    }
  });

  it('names a socket nobody serves as UNAVAILABLE', async () => {
    const client = new RegistrationV1Client(join(dir, 'missing.sock'));
    try {
      const e = await failure(client.getInfo(10_000));
      expect(e.code).toBe('UNAVAILABLE');
      expect(e.grpcCode).toBe(grpc.status.UNAVAILABLE);
      expect(e.message).toMatch(/^GetInfo at .*missing.sock: rpc error: code = Unavailable desc = /);
    } finally {
      client.close();
    }
  });

  it('refuses a relative socket path and a timeout that is no positive number, before any call', async () => {
    expect(() => new PluginConnection('reg.sock')).toThrow(
      /socketPath "reg.sock": expected an absolute unix socket path/,
    );
    const client = new RegistrationV1Client(join(dir, 'reg.sock'));
    const e = await client.getInfo(0).catch((err: unknown) => err);
    client.close();
    expect(isPluginApiError(e, 'INVALID_TIMEOUT')).toBe(true);
    expect((e as Error).message).toBe('timeoutMs 0: must be a positive number of milliseconds');
  });
});
