import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeProxyMetrics } from '@nodeagent/kube-proxy';
import { FakeClock } from '@nodeagent/primitives';
import { type ApiServer, kubeconfigYaml, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonSettings } from '../src/daemon-settings';
import { buildProgram } from '../src/index';
import { createProxyLogger } from '../src/logging';
import { SERVER_RETRY_MS, startServers } from '../src/proxy-servers';
import { SyncEndSignallingHealth } from '../src/sync-end-signal';
import { bindOnlyDaemonArgs, cli, until } from './daemon-process';

// Start-up failures an operator can cause (issue #50), as upstream v1.36 treats them: a healthz or
// metrics bind address already in use stops the proxy with --bind-address-hard-fail (one line
// naming the setting, exit 1, no stack trace below -v=4); without it the failure is logged and the
// server tried again every 5 s while the proxy runs on. A --write-config-to that cannot be
// written is one line naming the flag.

let dir: string;
let api: ApiServer;
/** A real listener on an ephemeral loopback port: the address "already in use". */
let blocker: Server;
let taken: string;
/** Every daemon started, SIGKILLed after the tests if one is still running (a failed test's). */
const children: ChildProcess[] = [];

async function listenOnLoopback(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const addressOf = (server: Server) => `127.0.0.1:${(server.address() as { port: number }).port}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `na-kp-start-up-${process.pid}-`));
  writeFileSync(join(dir, 'a-file'), 'not a directory\n');
  api = await startApiServer();
  writeFileSync(join(dir, 'kubeconfig'), kubeconfigYaml(api.url));
  // kube-proxy reads its Node's addresses at start (and would wait ~31 s for a missing one).
  api.registry.create(api.resource('v1', 'nodes'), undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'node-a' },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] },
  });
  blocker = await listenOnLoopback();
  taken = addressOf(blocker);
});

afterAll(async () => {
  for (const child of children.filter((c) => c.exitCode === null && c.signalCode === null)) {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  await new Promise((resolve) => blocker?.close(resolve));
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The daemon in userspace bind-only mode (no kernel rules), with these servers. */
function daemonArgs(healthz: string, metrics: string, extra: string[] = []): string[] {
  return [...bindOnlyDaemonArgs(join(dir, 'kubeconfig'), healthz, metrics), ...extra];
}

/** A klog line's header (`E1125 06:29:06.865000   10925 kube-proxy] `), which carries times and pids. */
const KLOG_HEADER = /^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d{6} +\d+ kube-proxy\] /;

function startDaemon(args: string[]): ChildProcess {
  const child = spawn(process.execPath, [cli, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  return child;
}

/** Runs the binary to its exit; its code, stderr, and stderr's lines that are not log lines. */
function runToExit(args: string[]): Promise<{ code: number | null; stderr: string; lines: string[] }> {
  return new Promise((resolve) => {
    const child = startDaemon(args);
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('exit', (code) => {
      const lines = stderr.split('\n').filter((line) => line !== '' && !KLOG_HEADER.test(line));
      resolve({ code, stderr, lines });
    });
  });
}

// The describes that start the daemon run their tests concurrently (each daemon its own process,
// binding only the address in use): one at a time they spent most of the file's time waiting for
// each other's start-up.
describe('--bind-address-hard-fail: a server that cannot bind stops the proxy', {
  timeout: 120_000,
  concurrent: true,
}, () => {
  const cases = [
    {
      name: 'healthzBindAddress in use',
      args: () => daemonArgs(taken, '', ['--bind-address-hard-fail']),
      line: () =>
        `error: healthzBindAddress (--healthz-bind-address): healthz server failed: failed to start proxy healthz on ${taken}: listen tcp ${taken}: bind: address already in use`,
    },
    {
      name: 'metricsBindAddress in use',
      args: () => daemonArgs('', taken, ['--bind-address-hard-fail']),
      line: () =>
        `error: metricsBindAddress (--metrics-bind-address): starting metrics server failed: listen tcp ${taken}: bind: address already in use`,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const run = await runToExit(c.args());
      expect(run.lines, run.stderr).toEqual([c.line()]);
      expect(run.code).toBe(1);
      expect(run.stderr).not.toMatch(/^\s+at /m);
    });
  }

  it('shows the stack trace at -v=4', async () => {
    const run = await runToExit(daemonArgs(taken, '', ['--bind-address-hard-fail', '-v=4']));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`\n${cases[0]!.line()}\n`);
    expect(run.stderr).toMatch(/^\s+at /m);
  });
});

describe('without --bind-address-hard-fail: logged, and the proxy runs on', {
  timeout: 120_000,
  concurrent: true,
}, () => {
  it('logs "Healthz server failed" and keeps running; SIGTERM still exits 0', async () => {
    const child = startDaemon(daemonArgs(taken, ''));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let stderr = '';
    const seen = new Promise<void>((resolve) => {
      child.stderr?.on('data', (chunk) => {
        stderr += chunk;
        if (/"kube-proxy started"/.test(stderr) && /"Healthz server failed"/.test(stderr)) resolve();
      });
    });
    await Promise.race([seen, exited]);
    expect(child.exitCode, stderr).toBeNull();
    const failure = stderr.split('\n').find((line) => line.includes('"Healthz server failed"'));
    expect(failure).toMatch(/^E/);
    expect(failure?.replace(KLOG_HEADER, '')).toBe(
      `"Healthz server failed" err="failed to start proxy healthz on ${taken}: listen tcp ${taken}: bind: address already in use" field="healthzBindAddress"`,
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});

describe('the healthz and metrics servers, tried again every 5 s of their clock', () => {
  /** Settings for startServers alone: only these fields are read. */
  function settings(healthz: string, metrics: string): DaemonSettings {
    return {
      mode: 'userspace',
      healthzBindAddress: healthz,
      metricsBindAddress: metrics,
      bindAddressHardFail: false,
      profiling: false,
    } as DaemonSettings;
  }

  /** A text logger whose lines are kept, each with its klog header (time, pid) cut to the severity. */
  function recordingLogger() {
    const lines: string[] = [];
    const write = (line: string) => {
      expect(line).toMatch(KLOG_HEADER);
      // The severity letter stays: these are errors.
      lines.push(line.replace(KLOG_HEADER, (header) => `${header[0]} `));
    };
    return { log: createProxyLogger({ format: 'text', verbosity: 0, write }), lines };
  }

  it('binds each once its address is free; the closers stop the attempts', async () => {
    const held = [await listenOnLoopback(), await listenOnLoopback()];
    const [healthz, metrics] = held.map(addressOf) as [string, string];
    const clock = new FakeClock();
    const { log, lines } = recordingLogger();
    const closers: (() => Promise<void>)[] = [];
    const sources = { metrics: new KubeProxyMetrics(), health: new SyncEndSignallingHealth(60_000) };
    await startServers(settings(healthz, metrics), sources, closers, log, clock);
    await clock.whenPending(2, 60_000);
    const failures = [
      `E "Healthz server failed" err="failed to start proxy healthz on ${healthz}: listen tcp ${healthz}: bind: address already in use" field="healthzBindAddress"\n`,
      `E "Unhandled Error" err="starting metrics server failed: listen tcp ${metrics}: bind: address already in use" field="metricsBindAddress"\n`,
    ];
    expect(lines).toEqual(failures);

    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
    clock.advance(SERVER_RETRY_MS - 1);
    expect(clock.pendingTimers()).toBe(2);
    clock.advance(1);
    const status = (url: string) =>
      until(
        () =>
          fetch(url).then(
            (r) => r.status,
            () => 0,
          ),
        (s) => s !== 0,
      );
    expect(await status(`http://${healthz}/livez`)).toBe(200);
    expect(await status(`http://${metrics}/healthz`)).toBe(200);
    expect(lines).toEqual(failures);
    expect(clock.pendingTimers()).toBe(0);

    for (const close of closers.reverse()) await close();
    await expect(fetch(`http://${healthz}/livez`)).rejects.toThrow();
  });

  it('a closer called while waiting for the next attempt: no attempt after it', async () => {
    const held = await listenOnLoopback();
    const clock = new FakeClock();
    const { log, lines } = recordingLogger();
    const closers: (() => Promise<void>)[] = [];
    const sources = { metrics: new KubeProxyMetrics(), health: new SyncEndSignallingHealth(60_000) };
    await startServers(settings(addressOf(held), ''), sources, closers, log, clock);
    await clock.whenPending(1, 60_000);
    for (const close of closers) await close();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(10 * SERVER_RETRY_MS);
    expect(lines).toHaveLength(1);
    await new Promise((resolve) => held.close(resolve));
  });
});

describe('--write-config-to', () => {
  it('a path that cannot be written: one line naming the flag, exit 1', async () => {
    let err = '';
    const program = buildProgram({ stdout: () => undefined, stderr: (t) => (err += t) });
    const path = join(dir, 'a-file', 'out.yaml');
    await program.parseAsync(['node', 'kube-proxy', '--write-config-to', path]);
    expect(program.exitCode).toBe(1);
    expect(err).toBe(`error: --write-config-to: cannot write ${JSON.stringify(path)}: not a directory\n`);
  });
});
