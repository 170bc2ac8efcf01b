import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CriError } from '@nodeagent/cri-client';
import { selfSignedCertificate } from '@nodeagent/primitives/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container, LifecycleHandler, Pod } from '../src/api/pod-types';
import type { ExecResult, PodRuntime } from '../src/cri/pod-runtime';
import { type HookContext, runLifecycleHook } from '../src/sync/lifecycle-hooks';
import { busybox, startEngine, testPod } from './helpers/engine';

/**
 * Lifecycle hooks as upstream's handler runner runs them (pkg/kubelet/lifecycle/handlers.go):
 * the messages a failed hook leaves in the container's PostStartHookError, any HTTP answer a
 * success, the request's headers, and the HTTPS-to-HTTP fallback.
 */
const pod: Pod = {
  metadata: { name: 'web', namespace: 'default', uid: 'u1' },
  spec: { containers: [{ name: 'app', image: 'b' }] },
};
const app: Container = { name: 'app', image: 'b', ports: [{ name: 'http', containerPort: 1 }] };

let plain: Server;
let plainPort: number;
let lastHeaders: IncomingHttpHeaders = {};

beforeAll(async () => {
  plain = createHttpServer((req, res) => {
    lastHeaders = req.headers;
    res.writeHead(req.url === '/broken' ? 500 : 200).end('hook body');
  });
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  plainPort = (plain.address() as AddressInfo).port;
});

afterAll(async () => {
  plain.closeAllConnections();
  await new Promise((resolve) => plain.close(resolve));
});

function context(
  execSync: PodRuntime['execSync'] = async () => ok,
  extra: Partial<HookContext> = {},
): HookContext {
  return {
    runtime: { execSync } as PodRuntime,
    podIP: '127.0.0.1',
    sleep: async () => {},
    timeoutSeconds: 5,
    ...extra,
  };
}
const ok: ExecResult = { exitCode: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };

const httpsHook = (port: number) =>
  runLifecycleHook({ httpGet: { port, path: '/x', scheme: 'HTTPS' } }, pod, app, 'c1', context());

async function failure(handler: LifecycleHandler, ctx: HookContext, container = app): Promise<string> {
  return runLifecycleHook(handler, pod, container, 'c1', ctx).then(
    () => expect.unreachable('the hook succeeded'),
    (error: Error) => error.message,
  );
}

describe('exec hooks', () => {
  it("a non-zero exit: upstream's message, RunInContainer's output Go-quoted", async () => {
    const exec = async (): Promise<ExecResult> => ({
      exitCode: 3,
      stdout: Buffer.from('out\n'),
      stderr: Buffer.from('oops'),
    });
    expect(await failure({ exec: { command: ['sh', '-c', 'exit 3'] } }, context(exec))).toBe(
      'Exec lifecycle hook ([sh -c exit 3]) for Container "app" in Pod "web_default(u1)" failed - error: command \'sh -c exit 3\' exited with 3: oops, message: "out\\noops"',
    );
  });

  it("a refused ExecSync: the gRPC error in Go's form, no output", async () => {
    const exec = async (): Promise<ExecResult> => {
      throw new CriError(
        'ExecSync',
        2,
        'failed to exec in container: container is in CONTAINER_EXITED state',
        'unix:///c.sock',
      );
    };
    expect(await failure({ exec: { command: ['drain'] } }, context(exec))).toBe(
      'Exec lifecycle hook ([drain]) for Container "app" in Pod "web_default(u1)" failed - error: rpc error: code = Unknown desc = failed to exec in container: container is in CONTAINER_EXITED state, message: ""',
    );
  });
});

describe('httpGet hooks', () => {
  it('any answer succeeds, a 500 included (upstream checks no status code), sent as kube-lifecycle', async () => {
    expect(
      await runLifecycleHook({ httpGet: { port: plainPort, path: '/broken' } }, pod, app, 'c1', context()),
    ).toEqual({});
    expect(lastHeaders['user-agent']).toBe('kube-lifecycle/1.36');
    expect(lastHeaders.accept).toBe('*/*');
  });

  it("no answer: Go's url.Error in upstream's message", async () => {
    const closed = createHttpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const dead = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await failure({ httpGet: { port: dead, path: 'hook' } }, context())).toBe(
      `HTTP lifecycle hook (hook) for Container "app" in Pod "web_default(u1)" failed - error: Get "http://127.0.0.1:${dead}/hook": dial tcp 127.0.0.1:${dead}: connect: connection refused`,
    );
  });

  it("a port name the container does not declare: ResolveContainerPort's error", async () => {
    expect(await failure({ httpGet: { port: 'metrics', path: '/x' } }, context())).toBe(
      'HTTP lifecycle hook (/x) for Container "app" in Pod "web_default(u1)" failed - error: strconv.Atoi: parsing "metrics": invalid syntax',
    );
  });

  it('an HTTPS hook a plaintext server answers is sent again over HTTP, and the fallback is reported', async () => {
    expect(await httpsHook(plainPort)).toEqual({ httpFallback: `127.0.0.1:${plainPort}` });
  });

  it('an HTTPS hook reaches a server with an untrusted certificate, no fallback', async () => {
    const { cert, key } = await selfSignedCertificate({ commonName: 'hook', validForMs: 86_400_000 });
    const secure = createHttpsServer({ key, cert }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', resolve));
    const securePort = (secure.address() as AddressInfo).port;
    try {
      expect(await httpsHook(securePort)).toEqual({});
    } finally {
      secure.closeAllConnections();
      await new Promise((resolve) => secure.close(resolve));
    }
  });
});

describe('the HTTPS fallback through the kubelet', () => {
  it('records Warning LifecycleHTTPFallback on the pod, as upstream words it', async () => {
    const events: { type: string; reason: string; message: string; fieldPath?: string }[] = [];
    const h = await startEngine({
      api: {
        recordEvent: (_pod, type, reason, message, fieldPath) =>
          events.push({ type, reason, message, fieldPath }),
      },
    });
    try {
      h.kubelet.addPod(
        testPod({
          containers: [
            {
              name: 'app',
              image: busybox,
              command: ['sh', '-c', 'sleep 3600'],
              lifecycle: {
                postStart: { httpGet: { host: '127.0.0.1', port: plainPort, path: '/x', scheme: 'HTTPS' } },
              },
            },
          ],
        }),
      );
      await h.kubelet.settle();
      expect(events.filter((e) => e.reason === 'LifecycleHTTPFallback')).toEqual([
        {
          type: 'Warning',
          reason: 'LifecycleHTTPFallback',
          message: `request to HTTPS lifecycle hook 127.0.0.1:${plainPort} got HTTP response, retry with HTTP succeeded`,
          fieldPath: undefined,
        },
      ]);
    } finally {
      await h.close();
    }
  });
});
