import { status } from '@grpc/grpc-js';
import { goParseInt, goQuote } from '@nodeagent/primitives/go-text';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointLocation, goRfc3339Local } from '../src/server/checkpoint-route';
import {
  type CheckpointRequest,
  type ContainerDebugRuntime,
  criDebugRuntime,
} from '../src/server/debug-runtime';
import {
  createKubeletServer,
  type KubeletServerOptions,
  listen,
  type RunningServer,
} from '../src/server/kubelet-server';
import { alwaysAllow, kubeletAuthenticator } from '../src/server/server-auth';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';

let h: EngineHarness;
let open: RunningServer;
let bare: RunningServer;
let denied: RunningServer;
let succeeding: RunningServer;
const verbosities: number[] = [];
const checkpoints: CheckpointRequest[] = [];
const pod = testPod(
  {
    initContainers: [{ name: 'setup', image: busybox, command: ['sh', '-c', 'true'] }],
    containers: [{ name: 'app', image: busybox, command: ['sh', '-c', 'sleep 3600'] }],
  },
  'web',
);

const anonymous = kubeletAuthenticator({ x509: false, anonymous: true });

beforeAll(async () => {
  h = await startEngine();
  h.kubelet.addPod(pod);
  // `app` starts in the sync after the init container's exit, which a relist has to see first.
  await h.settleThroughRelists();
  const base: KubeletServerOptions = {
    kubelet: h.kubelet,
    nodeName: 'node-a',
    podLogsDir: `${h.dir}/logs`,
    authenticate: anonymous,
    authorize: alwaysAllow,
  };
  const cri = criDebugRuntime(h.client);
  open = await listen(
    createKubeletServer({ ...base, debugRuntime: cri, setVerbosity: (v) => verbosities.push(v) }),
    0,
    '127.0.0.1',
  );
  bare = await listen(
    createKubeletServer({ ...base, containerCheckpoint: false, setVerbosity: false }),
    0,
    '127.0.0.1',
  );
  // A runtime whose checkpoints succeed (the fake runtime answers as containerd 1.6: Unimplemented).
  const recording: ContainerDebugRuntime = {
    execSync: cri.execSync,
    checkpointContainer: async (request) => {
      checkpoints.push(request);
    },
  };
  succeeding = await listen(createKubeletServer({ ...base, debugRuntime: recording }), 0, '127.0.0.1');
  denied = await listen(
    createKubeletServer({
      ...base,
      debugRuntime: cri,
      setVerbosity: () => undefined,
      authenticate: async (request) => ({ name: String(request.headers['x-user']), groups: [] }),
      // dora holds only nodes/checkpoint.
      authorize: async (user, attributes) => user.name === 'dora' && attributes.subresource === 'checkpoint',
    }),
    0,
    '127.0.0.1',
  );
});

afterAll(async () => {
  for (const server of [open, bare, succeeding, denied]) await server?.close();
  await h?.close();
});

const call = (server: RunningServer, method: string, path: string, init: RequestInit = {}) =>
  fetch(`http://127.0.0.1:${server.port}${path}`, { method, ...init });

async function answer(response: Response) {
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: await response.text(),
  };
}

describe('/run (upstream getRun)', () => {
  it('runs `cmd` split at spaces through ExecSync and answers stdout then stderr as application/json', async () => {
    const seen: string[][] = [];
    h.fake.onExecSync((_id, cmd) => {
      seen.push(cmd);
      return { stdout: 'out\n', stderr: 'err\n', exitCode: 0, blocks: false };
    });
    try {
      const ran = await call(open, 'POST', '/run/default/web/app?cmd=ls%20-l%20/tmp');
      expect(await answer(ran)).toEqual({ status: 200, type: 'application/json', body: 'out\nerr\n' });
      expect(seen).toEqual([['ls', '-l', '/tmp']]);
    } finally {
      h.fake.onExecSync(undefined);
    }
  });

  it('runs the real command on the fake runtime, with or without a uid (the full name decides)', async () => {
    const ran = await call(open, 'POST', '/run/default/web/app?cmd=echo hello');
    expect(await answer(ran)).toEqual({ status: 200, type: 'application/json', body: 'hello\n' });
    const withUid = await call(open, 'POST', '/run/default/web/not-the-uid/app?cmd=echo again');
    expect(await answer(withUid)).toEqual({ status: 200, type: 'application/json', body: 'again\n' });
  });

  it("reads `cmd` as Go's FormValue does: a urlencoded body's value before the query's", async () => {
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const fromBody = await call(open, 'POST', '/run/default/web/app', {
      headers: form,
      body: 'cmd=echo+body',
    });
    expect(await fromBody.text()).toBe('body\n');
    const both = await call(open, 'POST', '/run/default/web/app?cmd=echo query', {
      headers: form,
      body: 'cmd=echo body',
    });
    expect(await both.text()).toBe('body\n');
    const plain = await call(open, 'POST', '/run/default/web/app?cmd=echo query', { body: 'cmd=echo body' });
    expect(await plain.text()).toBe('query\n');
  });

  it('answers an empty output as 200 with no body and no Content-Type (Go writes no nil slice)', async () => {
    const ran = await call(open, 'POST', '/run/default/web/app?cmd=true');
    expect(await answer(ran)).toEqual({ status: 200, type: null, body: '' });
  });

  it("answers a failing command 500 with Go's exit error, the output dropped", async () => {
    expect(await answer(await call(open, 'POST', '/run/default/web/app?cmd=false'))).toEqual({
      status: 500,
      type: 'text/plain; charset=utf-8',
      body: "command 'false' exited with 1: ",
    });
    h.fake.onExecSync(() => ({ stdout: 'partial', stderr: 'oops\n', exitCode: 3, blocks: false }));
    try {
      const scripted = await call(open, 'POST', '/run/default/web/app?cmd=cat /missing');
      expect(await answer(scripted)).toEqual({
        status: 500,
        type: 'text/plain; charset=utf-8',
        body: "command 'cat /missing' exited with 3: oops\n",
      });
    } finally {
      h.fake.onExecSync(undefined);
    }
  });

  it("answers a runtime refusal 500 with Go's gRPC error text", async () => {
    h.fake.injectError('ExecSync', { code: status.UNKNOWN, details: 'failed to exec in container: boom' });
    const refused = await call(open, 'POST', '/run/default/web/app?cmd=echo x');
    expect(await answer(refused)).toEqual({
      status: 500,
      type: 'text/plain; charset=utf-8',
      body: 'rpc error: code = Unknown desc = failed to exec in container: boom',
    });
  });

  it('answers a pod the kubelet does not hold 404 and a container not running 500, as upstream', async () => {
    expect(await answer(await call(open, 'POST', '/run/default/nope/app?cmd=true'))).toEqual({
      status: 404,
      type: 'text/plain; charset=utf-8',
      body: 'pod does not exist',
    });
    expect(await answer(await call(open, 'POST', '/run/default/web/setup?cmd=true'))).toEqual({
      status: 500,
      type: 'text/plain; charset=utf-8',
      body: 'container not found ("setup")',
    });
    expect((await answer(await call(open, 'POST', '/run/default/web/a%09b?cmd=true'))).body).toBe(
      'container not found ("a\\tb")',
    );
  });

  it("answers other methods 405 (Allow: POST) and other path shapes go-restful's 404", async () => {
    const get = await call(open, 'GET', '/run/default/web/app?cmd=true');
    expect(await answer(get)).toEqual({
      status: 405,
      type: 'text/plain; charset=utf-8',
      body: '405: Method Not Allowed',
    });
    expect(get.headers.get('allow')).toBe('POST');
    expect(await answer(await call(open, 'POST', '/run/default/web'))).toEqual({
      status: 404,
      type: 'text/plain; charset=utf-8',
      body: '404: Page Not Found',
    });
    // Without a runtime to call /run is not served, but with the debugging handlers on its web
    // service is there, so a miss is go-restful's 404.
    expect((await answer(await call(bare, 'POST', '/run/default/web/app?cmd=true'))).body).toBe(
      '404: Page Not Found',
    );
  });

  it('is authorized as create on nodes/proxy', async () => {
    const refused = await call(denied, 'POST', '/run/default/web/app?cmd=true', {
      headers: { 'x-user': 'bob' },
    });
    expect(await refused.text()).toBe(
      'Forbidden (user=bob, verb=create, resource=nodes, subresource(s)=[proxy])\n',
    );
  });
});

describe('/checkpoint (upstream checkpoint, feature gate ContainerCheckpoint)', () => {
  it("answers containerd 1.6 refusing CheckpointContainer (Unimplemented) 500 in upstream's words", async () => {
    expect(await answer(await call(open, 'POST', '/checkpoint/default/web/app'))).toEqual({
      status: 500,
      type: 'text/plain; charset=utf-8',
      body: 'checkpointing of default/web/app failed (rpc error: code = Unimplemented desc = method CheckpointContainer not implemented)',
    });
  });

  it('answers {"items":[<archive>]} once the runtime checkpointed into <rootDir>/checkpoints', async () => {
    checkpoints.length = 0;
    const before = Date.now();
    const done = await answer(
      await call(succeeding, 'POST', '/checkpoint/default/web/app?timeout=x&timeout=30'),
    );
    expect(done.status).toBe(200);
    expect(done.type).toBe('application/json');
    const { items } = JSON.parse(done.body) as { items: string[] };
    const app = h.kubelet.runtimePods()[0]?.containers.find((c) => c.name === 'app' && c.state === 'running');
    expect(checkpoints).toEqual([{ containerId: app?.id, location: items[0], timeout: 30 }]);
    const stamp = /^checkpoint-web_default-app-(.+)\.tar$/.exec(items[0]?.split('/').pop() ?? '')?.[1] ?? '';
    expect(items[0]).toBe(`${h.kubelet.checkpointsDir()}/checkpoint-web_default-app-${stamp}.tar`);
    expect(h.kubelet.checkpointsDir()).toBe(`${h.dir}/root/checkpoints`);
    expect(Date.parse(stamp)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(done.body).toBe(`{"items":["${items[0]}"]}`);
  });

  it('answers a missing pod or container 404, an unparsable timeout 404, a container not running 500', async () => {
    const body = async (path: string) => answer(await call(succeeding, 'POST', path));
    expect(await body('/checkpoint/default/nope/app')).toMatchObject({
      status: 404,
      body: 'pod does not exist',
    });
    expect(await body('/checkpoint/default/web/nope')).toMatchObject({
      status: 404,
      body: 'container nope does not exist',
    });
    expect(await body('/checkpoint/default/web/app?timeout=30&timeout=1.5')).toMatchObject({
      status: 404,
      body: 'cannot parse value of timeout parameter',
    });
    // In the spec, but no longer running (a finished init container).
    expect(await body('/checkpoint/default/web/setup')).toMatchObject({
      status: 500,
      body: 'checkpointing of default/web/setup failed (container setup not found)',
    });
  });

  it("refuses a negative timeout with the remote runtime's message", async () => {
    expect(await answer(await call(open, 'POST', '/checkpoint/default/web/app?timeout=-1'))).toMatchObject({
      status: 500,
      body: 'checkpointing of default/web/app failed (CheckpointContainer requires the timeout value to be > 0)',
    });
  });

  it('is POST only, not served with the gate off, and authorized as nodes/checkpoint', async () => {
    const get = await call(open, 'GET', '/checkpoint/default/web/app');
    expect([get.status, get.headers.get('allow'), await get.text()]).toEqual([
      405,
      'POST',
      '405: Method Not Allowed',
    ]);
    expect((await answer(await call(open, 'POST', '/checkpoint/default/web'))).body).toBe(
      '404: Page Not Found',
    );
    expect(await answer(await call(bare, 'POST', '/checkpoint/default/web/app'))).toMatchObject({
      status: 404,
      body: '404 page not found\n',
    });
    const dora = await call(denied, 'POST', '/checkpoint/default/web/app', { headers: { 'x-user': 'dora' } });
    expect(dora.status).toBe(500);
    const bob = await call(denied, 'POST', '/checkpoint/default/web/app', { headers: { 'x-user': 'bob' } });
    expect(await bob.text()).toBe(
      'Forbidden (user=bob, verb=create, resource=nodes, subresource(s)=[checkpoint])\n',
    );
  });

  it('sends the larger of the requested timeout and the CRI request timeout, as its deadline too', async () => {
    const sent: [bigint | number, number | undefined][] = [];
    const client = {
      checkpointContainer: async (
        request: { timeout?: bigint | number },
        options?: { timeoutMs?: number },
      ) => {
        sent.push([request.timeout ?? 0, options?.timeoutMs]);
        return {};
      },
      execSync: h.client.execSync.bind(h.client),
    } as unknown as Parameters<typeof criDebugRuntime>[0];
    const runtime = criDebugRuntime(client, { requestTimeoutSeconds: 120 });
    for (const timeout of [0, 5, 300])
      await runtime.checkpointContainer({ containerId: 'c', location: '/x.tar', timeout });
    expect(sent).toEqual([
      [120, 120_000],
      [120, 120_000],
      [300, 300_000],
    ]);
  });

  it("names the archive with Go's RFC 3339 in the local zone", () => {
    const zone = process.env.TZ;
    const at = new Date(Date.UTC(2026, 10, 25, 3, 38, 7));
    try {
      process.env.TZ = 'UTC';
      expect(goRfc3339Local(at)).toBe('2026-11-25T03:38:07Z');
      process.env.TZ = 'Asia/Kolkata';
      expect(goRfc3339Local(at)).toBe('2026-11-25T09:08:07+05:30');
      process.env.TZ = 'America/New_York';
      expect(goRfc3339Local(at)).toBe('2026-11-24T22:38:07-05:00');
      expect(
        checkpointLocation('/var/lib/kubelet/checkpoints', { namespace: 'ns', pod: 'p', container: 'c' }, at),
      ).toBe('/var/lib/kubelet/checkpoints/checkpoint-p_ns-c-2026-11-24T22:38:07-05:00.tar');
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
});

describe('/debug/flags/v (upstream StringFlagPutHandler(GlogSetter))', () => {
  it("sets the verbosity from a PUT body and answers upstream's text", async () => {
    verbosities.length = 0;
    const set = await call(open, 'PUT', '/debug/flags/v', { body: '5' });
    expect(await answer(set)).toEqual({
      status: 200,
      type: 'text/plain',
      body: 'successfully set klog.logging.verbosity to 5\n',
    });
    expect(set.headers.get('x-content-type-options')).toBe('nosniff');
    expect(verbosities).toEqual([5]);
  });

  it("answers a body klog's Level.Set refuses 400 with Go's ParseInt error, changing nothing", async () => {
    verbosities.length = 0;
    const put = async (body: string) => answer(await call(open, 'PUT', '/debug/flags/v', { body }));
    expect(await put('abc')).toEqual({
      status: 400,
      type: 'text/plain',
      body: 'failed set klog.logging.verbosity abc: strconv.ParseInt: parsing "abc": invalid syntax\n',
    });
    expect((await put('3\n')).body).toBe(
      'failed set klog.logging.verbosity 3\n: strconv.ParseInt: parsing "3\\n": invalid syntax\n',
    );
    expect((await put('2147483648')).body).toBe(
      'failed set klog.logging.verbosity 2147483648: strconv.ParseInt: parsing "2147483648": value out of range\n',
    );
    expect((await put('')).body).toBe(
      'failed set klog.logging.verbosity : strconv.ParseInt: parsing "": invalid syntax\n',
    );
    expect(verbosities).toEqual([]);
  });

  it('answers other methods 406, a disabled handler 405, and is authorized as update on nodes/proxy', async () => {
    expect(await answer(await call(open, 'GET', '/debug/flags/v'))).toEqual({
      status: 406,
      type: 'text/plain',
      body: 'unsupported http method\n',
    });
    expect(await answer(await call(bare, 'PUT', '/debug/flags/v', { body: '3' }))).toEqual({
      status: 405,
      type: 'text/plain; charset=utf-8',
      body: 'flags endpoint is disabled.\n',
    });
    const bob = await call(denied, 'PUT', '/debug/flags/v', { body: '3', headers: { 'x-user': 'bob' } });
    expect(await bob.text()).toBe(
      'Forbidden (user=bob, verb=update, resource=nodes, subresource(s)=[proxy])\n',
    );
  });
});

describe("Go's ParseInt and %q", () => {
  it('parses as strconv.ParseInt(s, 10, bits) and quotes as strconv.Quote', () => {
    expect(goParseInt('+7', 32)).toEqual({ value: 7n });
    expect(goParseInt('-2147483648', 32)).toEqual({ value: -2147483648n });
    expect(goParseInt('9223372036854775807', 64)).toEqual({ value: 9223372036854775807n });
    expect(goParseInt('1_0', 32)).toEqual({ error: 'strconv.ParseInt: parsing "1_0": invalid syntax' });
    expect(goParseInt('99999999999x', 32)).toEqual({
      error: 'strconv.ParseInt: parsing "99999999999x": value out of range',
    });
    expect(goParseInt('-', 32)).toEqual({ error: 'strconv.ParseInt: parsing "-": invalid syntax' });
    expect(goQuote('a"b\\c\u0007\u007f\u00a0é\u2028')).toBe('"a\\"b\\\\c\\a\\x7f\\u00a0é\\u2028"');
  });
});
