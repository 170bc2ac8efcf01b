import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isProcessAlive } from '@nodeagent/testing/netns';
import { describe, expect, it } from 'vitest';
import type { CrossNodeAnswer, DemoResult } from '../../src/demo';
import {
  demoArgv,
  keepTranscript,
  leftBehind,
  netnsList,
  processesMentioning,
  root,
  runCommand,
  start,
  summary,
} from './start-demo';

const NODE_1 = 'nodeagent-demo-node-1';
const NODE_2 = 'nodeagent-demo-node-2';

/** The requests of one kind sent from node `from`, each with the node of the pod that answered. */
function sent(result: DemoResult, kind: CrossNodeAnswer['kind'], from: string): CrossNodeAnswer[] {
  return result.crossNode.filter((a) => a.kind === kind && a.fromNode === from);
}

/** Waits until `pid` has exited (a zombie counts as gone); 120 s is a hang guard, not a timing. */
async function waitUntilGone(pid: number): Promise<void> {
  for (let waited = 0; isProcessAlive(pid); waited += 200) {
    if (waited > 120_000) throw new Error(`process ${pid} still alive 120 s after SIGKILL`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// Every proxy mode that runs on this kernel. ipvs is not here: the demo refuses it (the kernel has
// no ip_vs modules); kube-proxy's IPVS paths are tested in the micro-VM (tools/vm).
describe.each(['nftables', 'iptables'] as const)('npm start -- --nodes 2 --proxy-mode %s', (mode) => {
  it('pods on node 1 reach pods on node 2 directly and through a ClusterIP (and back), then nothing is left', async () => {
    const run = await start(['--nodes', '2', '--once', '--json', '--proxy-mode', mode]);
    const result = summary(run);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.proxyMode).toBe(mode);
    expect(result.problems).toEqual([]);
    expect(result.nodes.map((n) => [n.name, n.ip, n.podCIDR])).toEqual([
      [NODE_1, '10.240.0.11', '10.244.1.0/24'],
      [NODE_2, '10.240.0.12', '10.244.2.0/24'],
    ]);
    expect(result.fabricNetns).toMatch(/^na-fabric-\d+-[0-9a-f]+$/);
    expect(run.stdout).toMatch(/nodeagent-demo-node-1 +True +<none> +10\.240\.0\.11 +10\.244\.1\.0\/24/);
    // The ReplicaSet's pods, spread by the scheduler: on each node, pods from its pod CIDR.
    expect(run.stdout).toMatch(/web-[a-z0-9]{5} +Running +yes +10\.244\.1\.\d+ +nodeagent-demo-node-1/);
    expect(run.stdout).toMatch(/web-[a-z0-9]{5} +Running +yes +10\.244\.2\.\d+ +nodeagent-demo-node-2/);

    for (const [from, to, fromCidr] of [
      [NODE_1, NODE_2, '10.244.1.'],
      [NODE_2, NODE_1, '10.244.2.'],
    ] as const) {
      // A pod on `from` → each pod on `to` by its pod IP: the pod that owns the IP answers.
      const direct = sent(result, 'pod', from);
      expect(direct.length).toBeGreaterThanOrEqual(1);
      for (const a of direct) {
        expect(a.error).toBeUndefined();
        expect(a.answeredFromNode).toBe(to);
        expect(a.url).not.toContain(fromCidr);
      }
      // A pod on `from` → the ClusterIP: no request failed, and pods on `to` answered (DNAT on
      // `from`, routed over the fabric to `to`'s pod CIDR, the reply un-NATed on `from`).
      const viaService = sent(result, 'service', from);
      expect(viaService.length).toBeGreaterThanOrEqual(8);
      expect(viaService.every((a) => a.error === undefined)).toBe(true);
      expect(viaService.some((a) => a.answeredFromNode === to)).toBe(true);
      expect(new Set(viaService.map((a) => a.answeredBy))).toEqual(new Set(result.expectedPods));
      // From `from`'s namespace to the NodePort on `to`'s address.
      const [nodePort] = sent(result, 'nodeport', from);
      expect(nodePort?.error).toBeUndefined();
      expect(result.expectedPods).toContain(nodePort?.answeredBy);
    }
    expect(result.expectedPods).toHaveLength(4);
    expect(result.leftovers).toEqual([]);
    expect(leftBehind(result)).toEqual([]);
  }, 400_000);
});

describe('npm start -- --nodes 2 running, then killed with SIGKILL', () => {
  it('kubectl exec reaches a pod on node 2; after a SIGKILL the next run stops both containerds and deletes both node namespaces, the fabric and the state dir', async () => {
    const child = spawn(process.execPath, demoArgv(['--nodes', '2']), {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    keepTranscript(child);
    let killed: { pid: number; stateDir: string; namespaces: string[] } | undefined;
    try {
      const deadline = Date.now() + 300_000;
      while (!stdout.includes('Live status') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 250));
      }
      const stateDir = /(\/tmp\/nodeagent-demo-(\d+)-[^/\s]+)\/kubeconfig/.exec(stdout);
      const namespaces = [...stdout.matchAll(/netns (na-(?:ctrd|fabric)-\d+-[0-9a-f]+)/g)].map(
        (m) => m[1] as string,
      );
      expect(stateDir, stdout).not.toBeNull();
      killed = {
        pid: Number(stateDir?.[2]),
        stateDir: stateDir?.[1] ?? '',
        namespaces: [...new Set(namespaces)],
      };
      expect(killed.namespaces).toHaveLength(3);
      // The API server reaches node 2's kubelet through node 2's relay (picked by the node IP it
      // dials), so kubectl exec and logs work for a pod there.
      const onNode2 = /(web-[a-z0-9]{5}) +Running +yes +10\.244\.2\.\d+ +nodeagent-demo-node-2/.exec(
        stdout,
      )?.[1];
      expect(onNode2, stdout).toBeDefined();
      const kubeconfig = `${killed.stateDir}/kubeconfig`;
      const exec = await runCommand('kubectl', [
        '--kubeconfig',
        kubeconfig,
        'exec',
        onNode2 as string,
        '--',
        'hostname',
      ]);
      expect(exec.stderr).toBe('');
      expect(exec.stdout).toBe(`${onNode2}\n`);
      const logs = await runCommand('kubectl', ['--kubeconfig', kubeconfig, 'logs', onNode2 as string]);
      expect(logs.code, logs.stderr).toBe(0);
      process.kill(killed.pid, 'SIGKILL'); // the demo process itself: no teardown runs
    } finally {
      if (child.exitCode === null) process.kill(-(child.pid as number), 'SIGKILL');
      await exited;
    }
    // SIGKILL is delivered asynchronously: on a loaded machine the killed demo can still be
    // finishing a system call when the next run reads the lock, which then rightly refuses.
    await waitUntilGone(killed.pid);
    // containerd is detached (it outlives the demo); its namespaces and the state dir stay.
    expect(processesMentioning(killed.stateDir).some((p) => p.includes('containerd --config'))).toBe(true);
    for (const netns of killed.namespaces) expect(netnsList()).toContain(netns);

    const next = await start(['--once', '--json', '--fake-runtime']);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout).toContain(`✔ clean up after an earlier run that did not finish (pid ${killed.pid})`);
    expect(processesMentioning(killed.stateDir)).toEqual([]);
    for (const netns of killed.namespaces) expect(netnsList()).not.toContain(netns);
    expect(existsSync(killed.stateDir)).toBe(false);
    expect(leftBehind(summary(next))).toEqual([]);
  }, 400_000);
});
