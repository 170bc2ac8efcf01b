import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isProcessAlive } from '../../packages/testing/src/netns/process-alive';
import { type NetnsHttpRequest, type NetnsHttpResponse, netnsHttp } from './netns-http';
import { type PushedImage, type PushOptions, pushOciArchive } from './push-image';
import { listeningPort, registryPaths, renderRegistryConfig } from './registry-config';

const run = promisify(execFile);

/** A user the registry's htpasswd file lets in. */
export interface RegistryUser {
  username: string;
  password: string;
}

export interface StartRegistryOptions {
  /** Users for basic auth (bcrypt in an htpasswd file); at least one. */
  users: RegistryUser[];
  /**
   * Network namespace to run in, e.g. a private containerd's `netnsPath` so that containerd pulls
   * from 127.0.0.1. Default: a fresh `na-reg-<pid>-<random>` namespace, deleted by stop().
   */
  netnsPath?: string;
  /** Directory for config, htpasswd, storage and log (created if missing; stop() removes it). */
  baseDir?: string;
  /** distribution's log level (default "info"; the port is read from an info line). */
  logLevel?: string;
  /** How long to wait for the registry to listen and answer (default 20 s). */
  startTimeoutMs?: number;
}

export interface RunningRegistry {
  /** `127.0.0.1:<port>`: the registry host as image references name it. */
  host: string;
  port: number;
  netnsPath: string;
  baseDir: string;
  logFile: string;
  pid: number;
  /** One HTTP request to the registry, with basic auth when `user` is given. */
  request(req: NetnsHttpRequest, user?: RegistryUser): Promise<NetnsHttpResponse>;
  /** Pushes an OCI archive (tools/images) as `<host>/<repository>:<tag>` with `user`'s credentials. */
  push(archive: string, options: PushOptions, user: RegistryUser): Promise<PushedImage>;
  /** Stops the registry, deletes its directory (and the namespace it created). Idempotent. */
  stop(): Promise<void>;
}

export class RegistryStartError extends Error {
  readonly code = 'REGISTRY_START_FAILED';
  constructor(
    message: string,
    readonly logTail: string,
  ) {
    super(`${message}\n--- registry log (tail) ---\n${logTail}`);
    this.name = 'RegistryStartError';
  }
}

async function readLog(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

async function htpasswdLine(user: RegistryUser): Promise<string> {
  // -B: bcrypt, the only hash distribution's htpasswd auth accepts.
  const { stdout } = await run('htpasswd', ['-Bbn', user.username, user.password]);
  return stdout.trim();
}

async function waitForPort(pid: number, logFile: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = await readLog(logFile);
    const port = listeningPort(log);
    if (port !== undefined) return port;
    if (!isProcessAlive(pid))
      throw new RegistryStartError('docker-registry exited during start-up', tail(log));
    if (Date.now() > deadline)
      throw new RegistryStartError(`docker-registry did not listen within ${timeoutMs} ms`, tail(log));
    await new Promise((r) => setTimeout(r, 50));
  }
}

function tail(log: string, lines = 30): string {
  return log.split('\n').slice(-lines).join('\n');
}

function basicAuth(user: RegistryUser): string {
  return `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
}

/**
 * Starts Debian's docker-registry (the CNCF distribution registry) on 127.0.0.1 inside a network
 * namespace, with htpasswd basic auth over plain HTTP and storage in its own directory. It serves
 * only that namespace's loopback: nothing is reachable from, or opened on, the host's network.
 */
export async function startRegistry(opts: StartRegistryOptions): Promise<RunningRegistry> {
  if (opts.users.length === 0) throw new Error('startRegistry: users must name at least one user');
  const ownNetns = opts.netnsPath ? undefined : `na-reg-${process.pid}-${randomBytes(4).toString('hex')}`;
  const netnsPath = opts.netnsPath ?? `/var/run/netns/${ownNetns}`;
  const baseDir = opts.baseDir ?? (await mkdtemp(join(tmpdir(), 'na-registry-')));
  const paths = registryPaths(baseDir);
  let pid = 0;
  const stop = async () => {
    if (pid && isProcessAlive(pid)) {
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 5000;
      while (isProcessAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (isProcessAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    if (ownNetns) await run('ip', ['netns', 'delete', ownNetns]).catch(() => undefined);
    await rm(baseDir, { recursive: true, force: true });
  };
  try {
    if (ownNetns) {
      await run('ip', ['netns', 'add', ownNetns]);
      await run('ip', ['-n', ownNetns, 'link', 'set', 'lo', 'up']);
    }
    await mkdir(paths.storageDir, { recursive: true, mode: 0o700 });
    await writeFile(paths.htpasswdFile, `${(await Promise.all(opts.users.map(htpasswdLine))).join('\n')}\n`);
    await writeFile(
      paths.configFile,
      renderRegistryConfig({ paths, realm: 'nodeagent-test-registry', logLevel: opts.logLevel ?? 'info' }),
    );
    const logFd = openSync(paths.logFile, 'a');
    // nsenter execs the registry in place, so the child's pid is the registry's.
    const child = spawn('nsenter', [`--net=${netnsPath}`, 'docker-registry', 'serve', paths.configFile], {
      stdio: ['ignore', logFd, logFd],
    });
    closeSync(logFd);
    if (!child.pid) throw new RegistryStartError('could not spawn docker-registry', '');
    pid = child.pid;
    child.unref();
    const port = await waitForPort(pid, paths.logFile, opts.startTimeoutMs ?? 20_000);
    const request = (req: NetnsHttpRequest, user?: RegistryUser) =>
      netnsHttp(netnsPath, port, {
        ...req,
        headers: { ...req.headers, ...(user ? { authorization: basicAuth(user) } : {}) },
      });
    const probe = await request({ method: 'GET', path: '/v2/' });
    // Without credentials /v2/ must challenge: that is the server answering with auth on.
    if (probe.status !== 401)
      throw new RegistryStartError(
        `GET /v2/ answered ${probe.status}, expected 401`,
        tail(await readLog(paths.logFile)),
      );
    let stopped: Promise<void> | undefined;
    return {
      host: `127.0.0.1:${port}`,
      port,
      netnsPath,
      baseDir,
      logFile: paths.logFile,
      pid,
      request,
      push: (archive, options, user) => pushOciArchive((req) => request(req, user), archive, options),
      stop: () => {
        stopped ??= stop();
        return stopped;
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
