import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kubelet } from '../src/kubelet';
import { serveHealthz } from '../src/server/healthz-route';

// /healthz as k8s.io/apiserver's healthz handleRootHealth and adaptCheckToHandler answer it, with
// the kubelet server's checks ping, log and syncloop (server.go InstallAuthNotRequiredHandlers).

let healthy = true;
const kubelet = {
  healthz: () =>
    healthy
      ? { ok: true }
      : { ok: false, message: 'PLEG is not healthy: pleg was last seen active 3m0s ago' },
} as unknown as Kubelet;
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (!serveHealthz(kubelet, new URL(request.url ?? '/', 'http://k'), response)) response.end('not mine');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function get(path: string) {
  const response = await fetch(`${base}${path}`);
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    nosniff: response.headers.get('x-content-type-options'),
    body: await response.text(),
  };
}

describe('/healthz (upstream handleRootHealth)', () => {
  it('answers ok, or every check with ?verbose, honouring ?exclude', async () => {
    healthy = true;
    const plain = { status: 200, type: 'text/plain; charset=utf-8', nosniff: 'nosniff' };
    expect(await get('/healthz')).toEqual({ ...plain, body: 'ok' });
    expect(await get('/healthz?verbose')).toEqual({
      ...plain,
      body: '[+]ping ok\n[+]log ok\n[+]syncloop ok\nhealthz check passed\n',
    });
    expect((await get('/healthz?verbose&exclude=log&exclude=nope')).body).toBe(
      '[+]ping ok\n[+]log excluded: ok\n[+]syncloop ok\nwarn: some health checks cannot be excluded: no matches for "nope"\nhealthz check passed\n',
    );
    expect(await get('/healthz/syncloop')).toMatchObject({ status: 200, body: 'ok' });
    expect((await get('/healthz/other')).body).toBe('not mine');
  });

  it('withholds the reason of a failed check on /healthz, gives it on /healthz/<check>', async () => {
    healthy = false;
    expect(await get('/healthz')).toEqual({
      status: 500,
      type: 'text/plain; charset=utf-8',
      nosniff: 'nosniff',
      body: '[+]ping ok\n[+]log ok\n[-]syncloop failed: reason withheld\nhealthz check failed\n',
    });
    expect(await get('/healthz?exclude=syncloop')).toMatchObject({ status: 200, body: 'ok' });
    expect(await get('/healthz/syncloop')).toMatchObject({
      status: 500,
      body: 'internal server error: PLEG is not healthy: pleg was last seen active 3m0s ago\n',
    });
    expect(await get('/healthz/ping')).toMatchObject({ status: 200, body: 'ok' });
  });
});
