import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import type { Kubelet } from '@nodeagent/kubelet';
import { FakeClock } from '@nodeagent/primitives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEALTHZ_RETRY_MS, serveHealthz } from '../src/healthz-listener';
import { cli, freePorts, killChild, node, waitFor } from './binary-harness';

// Start-up failures an operator can cause (issue #50): a port taken, a directory that cannot be
// created, a socket nothing answers on. Each is one line naming the setting and the value with
// the system's reason, exit 1 as upstream, no stack trace below -v=4. The healthz port is the
// exception, as upstream: logged, tried again every 5 s, and the kubelet runs on.

let dir: string;
let fake: FakeRuntime;
/** A real listener on an ephemeral loopback port: the port "already in use". */
let blocker: Server;
let taken: number;
/** The kubelet left running by the healthz test, SIGKILLed after the tests if that one failed. */
let running: ChildProcess | undefined;
/**
 * A distinct free port per case's kubelet server, chosen together before any starts: the cases'
 * kubelets run concurrently, and ports chosen one by one could be handed out twice.
 */
const serverPorts = new Map<string, number>();

/** Listens on 127.0.0.1, port 0 (the kernel picks a free one). */
async function listenOnLoopback(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const portOf = (server: Server) => (server.address() as { port: number }).port;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-start-up-${process.pid}-`));
  fake = await FakeRuntime.start();
  blocker = await listenOnLoopback();
  taken = portOf(blocker);
  const names = [...cases.map((c) => c.config), 'port-v4', 'healthz'];
  const ports = await freePorts(names.length);
  for (const [i, name] of names.entries()) serverPorts.set(name, ports[i] as number);
  // A regular file: a directory cannot be made under it (ENOTDIR, whoever runs the test), and it
  // is not a socket.
  await writeFile(join(dir, 'a-file'), 'not a directory\n');
  await writeFile(
    join(dir, 'bootstrap.conf'),
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await killChild(running);
  await new Promise((resolve) => blocker?.close(resolve));
  await fake?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The settings a case changes; everything else runs a standalone kubelet on the fake runtime. */
interface Settings {
  port?: number;
  readOnlyPort?: number;
  healthzPort?: number;
  endpoint?: string;
  imageServiceEndpoint?: string;
  podLogsDir?: string;
  rotateCertificates?: boolean;
  /** --root-dir (a flag only). */
  rootDir?: string;
}

/** A KubeletConfiguration file for `settings` (in a file, so no flag deprecation lines). */
async function configFile(name: string, s: Settings): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  const lines = [
    'apiVersion: kubelet.config.k8s.io/v1beta1',
    'kind: KubeletConfiguration',
    'address: 127.0.0.1',
    `port: ${s.port ?? serverPorts.get(name)}`,
    `readOnlyPort: ${s.readOnlyPort ?? 0}`,
    'healthzBindAddress: 127.0.0.1',
    `healthzPort: ${s.healthzPort ?? 0}`,
    `containerRuntimeEndpoint: ${s.endpoint ?? fake.endpoint}`,
    `imageServiceEndpoint: "${s.imageServiceEndpoint ?? ''}"`,
    `podLogsDir: ${s.podLogsDir ?? join(dir, `${name}-logs`)}`,
    // Made at start: the case's own, never the host's /usr/libexec/kubernetes.
    `volumePluginDir: ${join(dir, `${name}-volume-plugins`)}`,
    `rotateCertificates: ${s.rotateCertificates ?? false}`,
    'authorization: {mode: AlwaysAllow}',
    'failSwapOn: false',
    // The test hosts may be cgroup v1; no kubepods cgroups for a fake runtime.
    'failCgroupV1: false',
    'cgroupsPerQOS: false',
    // No iptables chains in the host's iptables (makeIPTablesUtilChains defaults to true).
    'makeIPTablesUtilChains: false',
    'enforceNodeAllocatable: []',
  ];
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/** The command line of a case: its configuration, a node name and IP, a root dir of its own. */
async function argvFor(name: string, s: Settings, extra: string[] = []): Promise<string[]> {
  return [
    '--config',
    await configFile(name, s),
    '--hostname-override',
    `start-up-${name}`,
    '--node-ip',
    '127.0.0.1',
    '--root-dir',
    s.rootDir ?? join(dir, `${name}-root`),
    // Its own --cert-dir (the self-signed serving pair is written first), never the host's.
    '--cert-dir',
    join(dir, `${name}-pki`),
    ...extra,
  ];
}

/** A klog line's header (`E1125 06:26:28.998000    3560 kubelet] `), which carries times and pids. */
const KLOG_HEADER = /^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d{6} +\d+ kubelet\] /;

/** Runs the binary to its exit; resolves with its code and its stderr's lines that are not log lines. */
function runToExit(argv: string[]): Promise<{ code: number | null; stderr: string; lines: string[] }> {
  return new Promise((resolve) => {
    const child = spawn(node, [cli, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (code) => {
      const lines = stderr.split('\n').filter((line) => line !== '' && !KLOG_HEADER.test(line));
      resolve({ code, stderr, lines });
    });
  });
}

interface Case {
  name: string;
  /** The name its configuration and directories are made under. */
  config: string;
  argv: () => Promise<string[]>;
  /** The lines besides the log lines, exactly. */
  lines: () => string[];
}

const cases: Case[] = [
  {
    name: 'the kubelet server port (port) taken',
    config: 'port',
    argv: () => argvFor('port', { port: taken }),
    lines: () => [
      `Error: port (--port): failed to listen and serve: listen tcp 127.0.0.1:${taken}: bind: address already in use`,
    ],
  },
  {
    name: 'the read-only port taken',
    config: 'read-only',
    argv: () => argvFor('read-only', { readOnlyPort: taken }),
    lines: () => [
      `Error: readOnlyPort (--read-only-port): failed to listen and serve: listen tcp 127.0.0.1:${taken}: bind: address already in use`,
    ],
  },
  {
    name: 'a --root-dir that cannot be created',
    config: 'root-dir',
    argv: () => argvFor('root-dir', { rootDir: join(dir, 'a-file', 'root') }),
    lines: () => [
      `Error: --root-dir: error creating root directory: mkdir ${join(dir, 'a-file', 'root')}: not a directory`,
    ],
  },
  {
    name: 'a podLogsDir that cannot be created',
    config: 'pod-logs',
    argv: () => argvFor('pod-logs', { podLogsDir: join(dir, 'a-file', 'logs') }),
    lines: () => {
      const logs = join(dir, 'a-file', 'logs');
      return [
        `Error: podLogsDir: error creating pod logs root directory "${logs}": mkdir ${logs}: not a directory`,
      ];
    },
  },
  {
    name: 'a --cert-dir that cannot be written (the self-signed serving pair goes there first)',
    config: 'cert-dir',
    argv: () =>
      argvFor('cert-dir', {}, [
        '--cert-dir',
        join(dir, 'a-file', 'pki'),
        '--bootstrap-kubeconfig',
        join(dir, 'bootstrap.conf'),
        '--kubeconfig',
        join(dir, 'cert-dir-kubelet.conf'),
      ]),
    lines: () => [`Error: --cert-dir: mkdir ${join(dir, 'a-file', 'pki')}: not a directory`],
  },
  {
    name: 'no socket at containerRuntimeEndpoint',
    config: 'no-runtime',
    argv: () => argvFor('no-runtime', { endpoint: `unix://${join(dir, 'none.sock')}` }),
    lines: () => {
      const sock = join(dir, 'none.sock');
      return [
        `Error: containerRuntimeEndpoint (--container-runtime-endpoint): cannot reach "unix://${sock}": dial unix ${sock}: connect: no such file or directory; is the container runtime running, and is this its socket?`,
      ];
    },
  },
  {
    name: 'a containerRuntimeEndpoint that is a file, not a socket',
    config: 'not-a-socket',
    argv: () => argvFor('not-a-socket', { endpoint: `unix://${join(dir, 'a-file')}` }),
    lines: () => {
      const file = join(dir, 'a-file');
      return [
        `Error: containerRuntimeEndpoint (--container-runtime-endpoint): cannot reach "unix://${file}": ${file} is not a socket; is the container runtime running, and is this its socket?`,
      ];
    },
  },
  {
    name: 'no socket at imageServiceEndpoint',
    config: 'no-images',
    argv: () => argvFor('no-images', { imageServiceEndpoint: `unix://${join(dir, 'none.sock')}` }),
    lines: () => {
      const sock = join(dir, 'none.sock');
      return [
        `Error: imageServiceEndpoint (--image-service-endpoint): cannot reach "unix://${sock}": dial unix ${sock}: connect: no such file or directory; is the image service running, and is this its socket?`,
      ];
    },
  },
];

// The describes that start the binary run their tests concurrently: each kubelet is its own
// process with its own files and server port, and one at a time they spent most of the file's
// time waiting for each other's start-up.
describe('start-up failures, from the binary: one line naming the setting, exit 1', {
  timeout: 120_000,
  concurrent: true,
}, () => {
  for (const c of cases) {
    it(c.name, async () => {
      const run = await runToExit(await c.argv());
      expect(run.lines, run.stderr).toEqual(c.lines());
      expect(run.code).toBe(1);
      expect(run.stderr).not.toMatch(/^\s+at /m);
    });
  }

  it('shows the stack trace at -v=4', async () => {
    const run = await runToExit(await argvFor('port-v4', { port: taken }, ['-v=4']));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `\nError: port (--port): failed to listen and serve: listen tcp 127.0.0.1:${taken}: bind: address already in use\n`,
    );
    expect(run.stderr).toMatch(/^\s+at /m);
  });
});

describe('the healthz port taken: logged as upstream, the kubelet runs on', {
  timeout: 120_000,
  concurrent: true,
}, () => {
  it('logs "Failed to start healthz server" and keeps running; SIGTERM still exits 0', async () => {
    const child = spawn(node, [cli, ...(await argvFor('healthz', { healthzPort: taken }))], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    running = child;
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let stderr = '';
    const seen = new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        if (/"kubelet started"/.test(stderr) && /"Failed to start healthz server"/.test(stderr)) resolve();
      });
    });
    await Promise.race([seen, exited]);
    expect(child.exitCode, stderr).toBeNull();
    const failures = stderr.split('\n').filter((line) => line.includes('Failed to start healthz server'));
    expect(failures[0]?.replace(KLOG_HEADER, '')).toBe(
      `"Failed to start healthz server" err="listen tcp 127.0.0.1:${taken}: bind: address already in use" field="healthzPort"`,
    );
    expect(failures[0]).toMatch(/^E/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});

describe('the healthz server, tried again every 5 s of its clock', () => {
  const kubelet = { healthz: () => ({ ok: true }) } as unknown as Kubelet;

  /** A logger that keeps what error() was given. */
  function recordingLogger() {
    const errors: Record<string, unknown>[] = [];
    const logger = {
      info() {},
      warn() {},
      error: (obj: object, msg?: string) => errors.push({ ...obj, msg }),
    };
    return { logger, errors };
  }

  it('binds once the port is free, and close() stops it', async () => {
    const held = await listenOnLoopback();
    const port = portOf(held);
    const clock = new FakeClock();
    const { logger, errors } = recordingLogger();
    const healthz = serveHealthz(
      kubelet,
      { healthzBindAddress: '127.0.0.1', healthzPort: port },
      logger,
      clock,
    );
    const failure = {
      err: `listen tcp 127.0.0.1:${port}: bind: address already in use`,
      field: 'healthzPort',
      msg: 'Failed to start healthz server',
    };
    await clock.whenPending(1, 60_000);
    expect(errors).toEqual([failure]);
    clock.advance(HEALTHZ_RETRY_MS - 1);
    expect(errors).toHaveLength(1);
    clock.advance(1);
    await clock.whenPending(1, 60_000);
    expect(errors).toEqual([failure, failure]);

    await new Promise((resolve) => held.close(resolve));
    clock.advance(HEALTHZ_RETRY_MS);
    const body = await waitFor('healthz answering', async () =>
      (await fetch(`http://127.0.0.1:${port}/healthz`)).text(),
    );
    expect(body).toBe('ok');
    expect(errors).toHaveLength(2);
    expect(clock.pendingTimers()).toBe(0);

    await healthz.close();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('close() while waiting for the next attempt: no attempt after it', async () => {
    const held = await listenOnLoopback();
    const clock = new FakeClock();
    const { logger, errors } = recordingLogger();
    const healthz = serveHealthz(
      kubelet,
      { healthzBindAddress: '127.0.0.1', healthzPort: portOf(held) },
      logger,
      clock,
    );
    await clock.whenPending(1, 60_000);
    await healthz.close();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(10 * HEALTHZ_RETRY_MS);
    expect(errors).toHaveLength(1);
    await new Promise((resolve) => held.close(resolve));
  });
});
