import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bridgeIntoNetns,
  createNetns,
  createVethPair,
  kubeconfigYaml,
  type Netns,
  type NetnsTcpBridge,
  startApiServer,
} from '@nodeagent/testing';
import { parseAllDocuments } from 'yaml';
import { bundleAppCli } from '../../../../tools/bundle/bundle-entry';

// A fidelity fixture (fidelity/kube-proxy-v1.NN in the repository, never edited) holds a real
// kube-apiserver's stored objects and what upstream kube-proxy wrote for them. The objects go into
// the in-process API server, and the real daemon (apps/kube-proxy's cli, bundled) runs in a
// fresh namespace with the fixture README's command line and node address.

const repoRoot = join(import.meta.dirname, '..', '..', '..', '..');
/** apps/kube-proxy's command line as one esbuild bundle (made on first use; no tsx start each time). */
let bundledCli: string | undefined;
export function kubeProxyCli(): string {
  bundledCli ??= bundleAppCli('kube-proxy');
  return bundledCli;
}

const PLURALS: Record<string, [string, string]> = {
  Node: ['v1', 'nodes'],
  Service: ['v1', 'services'],
  EndpointSlice: ['discovery.k8s.io/v1', 'endpointslices'],
};

/** iptables-save as the fixtures hold it: counters zeroed, comment lines dropped. */
export function normalizeSave(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]$/, '[0:0]'));
}

export interface FidelityDaemon {
  /** The fixture's folder, e.g. <repo>/fidelity/kube-proxy-v1.36. */
  fixtureDir: string;
  /** The node's namespace (10.77.0.1/24 on a veth, as when upstream's run was recorded). */
  node: Netns;
  daemon: ChildProcess;
  /** Everything the daemon printed so far. */
  log(): string;
  /** Kills the daemon and removes the namespaces, the API server and the temp dir. */
  stop(): Promise<void>;
}

/**
 * Starts the daemon against `fixture`'s objects. `prepare` runs in the node's namespace before the
 * daemon starts (to leave rules an earlier version wrote, say).
 */
export async function startFidelityDaemon(
  fixture: string,
  options: { purpose: string; prepare?: (node: Netns) => Promise<void> },
): Promise<FidelityDaemon> {
  const fixtureDir = join(repoRoot, 'fidelity', fixture);
  const dir = mkdtempSync(join(tmpdir(), `na-${options.purpose}-${process.pid}-`));
  const api = await startApiServer();
  api.registry.create(api.resource('v1', 'namespaces'), undefined, { metadata: { name: 'ho' } });
  for (const doc of parseAllDocuments(readFileSync(join(fixtureDir, 'objects.yaml'), 'utf8'))) {
    const obj = doc.toJS() as { kind: string; metadata: { namespace?: string } };
    const [apiVersion, plural] = PLURALS[obj.kind] ?? [];
    if (!apiVersion || !plural) throw new Error(`fixture kind ${obj.kind} not handled`);
    api.registry.create(api.resource(apiVersion, plural), obj.metadata.namespace, obj);
  }
  const node = await createNetns({ purpose: options.purpose });
  const peer = await createNetns({ purpose: `${options.purpose}p` });
  let bridge: NetnsTcpBridge;
  try {
    await createVethPair(
      { netns: node, addresses: ['10.77.0.1/24'] },
      { netns: peer, addresses: ['10.77.0.2/24'] },
    );
    await options.prepare?.(node);
    // The API server on the namespace's 127.0.0.1:6443.
    bridge = await bridgeIntoNetns(node, api.port);
  } catch (error) {
    // Nothing of a set-up that failed half-way is left on the host.
    await node.delete();
    await peer.delete();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml('http://127.0.0.1:6443'));
  // The fixture README's command line.
  const daemon = node.spawn(
    process.execPath,
    [
      kubeProxyCli(),
      '--kubeconfig',
      kubeconfig,
      '--hostname-override',
      'n1',
      '--proxy-mode',
      'iptables',
      '--cluster-cidr',
      '10.244.0.0/16',
      '--conntrack-max-per-core',
      '0',
      '--metrics-bind-address',
      '127.0.0.1:10249',
      '--healthz-bind-address',
      '127.0.0.1:10256',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  daemon.stderr?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  daemon.stdout?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  return {
    fixtureDir,
    node,
    daemon,
    log: () => log,
    async stop() {
      if (daemon.exitCode === null) daemon.kill('SIGKILL');
      await node.delete();
      await peer.delete();
      await bridge.close();
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
