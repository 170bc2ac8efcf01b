import { afterAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../../src/apiserver/index';
import { bridgeIntoNetns, listenInNetns, NetnsListenError, NetnsScope } from '../../src/netns/index';

// A GET from inside the namespace, by a plain Node there: "<status> <body>".
const GET = `require('node:http').get('http://127.0.0.1:' + process.argv[1] + process.argv[2], (r) => {
  let b = ''; r.on('data', (c) => { b += c; }); r.on('end', () => process.stdout.write(r.statusCode + ' ' + b));
}).on('error', (e) => { process.stdout.write('error ' + e.code); });`;
const env = { ...process.env, NODE_OPTIONS: '' };

// Real kernel (root): each case makes its own namespace, deleted at the end.
describe('listenInNetns and ApiServer.serve (real kernel)', () => {
  const scope = new NetnsScope('listen-in');
  afterAll(() => scope.cleanup());

  it('a client inside the namespace reaches the in-process API server with no forwarder', async () => {
    const ns = await scope.create();
    const api = await startApiServer();
    try {
      api.serve(await listenInNetns(ns, 6443));
      const { stdout } = await ns.exec(process.execPath, ['-e', GET, '6443', '/api/v1/namespaces/default'], {
        env,
      });
      expect(stdout).toMatch(/^200 /);
      expect(JSON.parse(stdout.slice(4)).metadata.name).toBe('default');
    } finally {
      await api.close();
    }
    // close() closed the namespace's listener too: a new connection there is refused.
    const after = await ns.exec(process.execPath, ['-e', GET, '6443', '/'], { env });
    expect(after.stdout).toBe('error ECONNREFUSED');
  });

  it('bridgeIntoNetns forwards the namespace port to a host port', async () => {
    const ns = await scope.create();
    const api = await startApiServer();
    const bridge = await bridgeIntoNetns(ns, api.port, 7443);
    try {
      const { stdout } = await ns.exec(
        process.execPath,
        ['-e', GET, '7443', '/api/v1/namespaces/kube-system'],
        {
          env,
        },
      );
      expect(JSON.parse(stdout.slice(4)).metadata.name).toBe('kube-system');
    } finally {
      await bridge.close();
      await api.close();
    }
  });

  it('a port already taken inside the namespace is a NetnsListenError naming it', async () => {
    const ns = await scope.create();
    const first = await listenInNetns(ns, 8080);
    try {
      const second = listenInNetns(ns, 8080);
      await expect(second).rejects.toBeInstanceOf(NetnsListenError);
      await expect(second).rejects.toThrow(`listen on 127.0.0.1:8080 in ${ns.name}: EADDRINUSE`);
    } finally {
      await new Promise<void>((r) => first.close(() => r()));
    }
  });
});
