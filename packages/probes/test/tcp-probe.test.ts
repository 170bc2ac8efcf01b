import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { normalizeProbe, runProbe, runTcpProbe } from '../src/index';
import { unansweredPort } from './helpers/unanswered-port';

let server: Server;
let port: number;
let accepted = 0;

beforeAll(async () => {
  server = createServer((socket) => {
    accepted++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('runTcpProbe', () => {
  it('succeeds when the port accepts a connection', async () => {
    const before = accepted;
    expect(await runTcpProbe('127.0.0.1', port, 1000)).toEqual({ result: 'Success', output: '' });
    await vi.waitFor(() => expect(accepted).toBe(before + 1));
  });

  it('fails when nothing listens', async () => {
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const dead = (other.address() as AddressInfo).port;
    await new Promise((resolve) => other.close(resolve));
    const out = await runTcpProbe('127.0.0.1', dead, 1000);
    // Go's net.Dial error, as upstream's event shows it.
    expect(out).toEqual({
      result: 'Failure',
      output: `dial tcp 127.0.0.1:${dead}: connect: connection refused`,
    });
  });

  it("fails at the timeout when the address answers nothing, with Go's dial timeout", async () => {
    const silent = await unansweredPort();
    try {
      expect(await runTcpProbe('127.0.0.1', silent.port, 300)).toEqual({
        result: 'Failure',
        output: `dial tcp 127.0.0.1:${silent.port}: i/o timeout`,
      });
    } finally {
      silent.close();
    }
  });

  it('runs through runProbe against the pod IP', async () => {
    const spec = normalizeProbe({ tcpSocket: { port: 'svc' } }, 'Liveness', [
      { name: 'svc', containerPort: port },
    ]);
    expect((await runProbe(spec, { podIP: '127.0.0.1' })).result).toBe('Success');
  });

  it('does not connect once cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const before = accepted;
    expect(await runTcpProbe('127.0.0.1', port, 1000, controller.signal)).toEqual({
      result: 'Unknown',
      output: 'probe cancelled',
    });
    expect(accepted).toBe(before);
  });
});
