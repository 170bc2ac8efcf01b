import { stat } from 'node:fs';
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

/** Blocks the event loop for `ms`, as a long GC pause or a starved CPU does. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

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

  it('succeeds when the timeout passed in a stalled event loop after the kernel had connected', async () => {
    const before = accepted;
    const outcome = await new Promise((resolve) => {
      // Started from an I/O callback, the connect is sent before this turn's check phase, where
      // the stall runs; the 1 ms timer is then overdue before the poll phase reads the connect.
      stat('.', () => {
        void runTcpProbe('127.0.0.1', port, 1).then(resolve);
        setImmediate(() => stall(50));
      });
    });
    expect(outcome).toEqual({ result: 'Success', output: '' });
    await vi.waitFor(() => expect(accepted).toBe(before + 1));
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
