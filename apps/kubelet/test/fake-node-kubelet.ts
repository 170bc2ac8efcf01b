import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { type ApiServer, type ApiServerOptions, startApiServer } from '@nodeagent/testing/apiserver';
import { cli, fakeNodeFlags, freePort, killChild, node, writeKubeletConfig } from './binary-harness';

/** The image every fake node's runtime holds. */
export const busybox = 'localhost/nodeagent/busybox:1.0';

/** One start of the binary: its process and the port its server listens on. */
export interface StartedKubelet {
  child: ChildProcess;
  port: number;
}

/**
 * One test node: the kubelet binary on a FakeRuntime, registered with an in-process API server
 * through `<dir>/kubeconfig`, configured by `<dir>/config.yaml`, its root dir `<dir>/root` kept
 * across restarts.
 */
export interface FakeNodeKubelet {
  dir: string;
  rootDir: string;
  nodeName: string;
  api: ApiServer;
  core: CoreV1Api;
  fake: FakeRuntime;
  /**
   * Starts the binary as this node on a fresh port (fakeNodeFlags: no host iptables chains), with
   * `env` on top of this process's environment.
   */
  startKubelet(env?: Record<string, string>): Promise<StartedKubelet>;
  /** Kills every start still running, stops the runtime and the API server, removes the dir. */
  close(): Promise<void>;
}

export interface FakeNodeKubeletOptions {
  nodeName: string;
  /** Names the temporary dir, for telling a leftover one's test. */
  dirPrefix: string;
  api?: ApiServerOptions;
  /** KubeletConfiguration lines after podLogsDir and address. */
  config?: string[];
  /** Flags after the node's own (fakeNodeFlags). */
  flags?: string[];
}

/** The API server, the fake runtime and the configuration; the binary starts on startKubelet(). */
export async function fakeNodeKubelet(options: FakeNodeKubeletOptions): Promise<FakeNodeKubelet> {
  const dir = await mkdtemp(join(tmpdir(), `${options.dirPrefix}-${process.pid}-`));
  let api: ApiServer | undefined;
  let fake: FakeRuntime | undefined;
  try {
    api = await startApiServer(options.api);
    api.writeKubeconfig(join(dir, 'kubeconfig'));
    fake = await FakeRuntime.start({ images: [{ ref: busybox }] });
    await writeKubeletConfig(dir, options.config ?? []);
  } catch (error) {
    // Nothing half started outlives a failed set-up.
    await fake?.stop();
    await api?.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return running(dir, options, api, fake);
}

function running(
  dir: string,
  options: FakeNodeKubeletOptions,
  api: ApiServer,
  fake: FakeRuntime,
): FakeNodeKubelet {
  const rootDir = join(dir, 'root');
  const children: ChildProcess[] = [];
  return {
    dir,
    rootDir,
    nodeName: options.nodeName,
    api,
    core: api.kubeConfig().makeApiClient(CoreV1Api),
    fake,
    async startKubelet(env = {}) {
      const port = await freePort();
      const child = spawn(
        node,
        [
          cli,
          '--config',
          join(dir, 'config.yaml'),
          '--kubeconfig',
          join(dir, 'kubeconfig'),
          ...fakeNodeFlags({ nodeName: options.nodeName, rootDir, endpoint: fake.endpoint, port }),
          ...(options.flags ?? []),
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } },
      );
      // Drained so that a chatty kubelet never blocks on a full pipe.
      child.stderr?.resume();
      children.push(child);
      return { child, port };
    },
    async close() {
      for (const child of children) await killChild(child);
      await fake.stop();
      await api.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
