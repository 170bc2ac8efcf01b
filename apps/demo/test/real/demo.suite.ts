import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerdToolSource } from '../../src/agent-bundles-dir';
import { chooseContainerd } from '../../src/containerd-choice';
import type { DemoResult } from '../../src/demo';
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

describe('npm start -- --once (node in a box, end to end)', () => {
  it('runs containerd, kubelet and kube-proxy, serves both pods through the ClusterIP, and leaves nothing behind', async () => {
    // Bundles its agents itself, as `npm start` does (the other runs share the file's bundles).
    const run = await start(['--once', '--json', '--requests', '6'], { ownBundles: true });
    const result = summary(run);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.runtime).toBe('containerd');
    // containerd 2.1 when it is unpacked (CI's install-deps unpacks it), else 1.6; said in one line.
    const tools = (await import(containerdToolSource)) as { containerd21Available(): boolean };
    expect(result.containerd).toBe(chooseContainerd(process.env, tools.containerd21Available).version);
    expect(run.stdout).toContain(`    Runtime: containerd ${result.containerd} (`);
    expect(result.proxyMode).toBe('nftables');
    expect(result.dataPathChecked).toBe(true);
    expect(result.expectedPods).toEqual(['web-1', 'web-2']);
    // Both pods answered through the ClusterIP, and no request failed.
    expect(result.answers.length).toBeGreaterThanOrEqual(6);
    expect(result.answers.every((a) => a.error === undefined)).toBe(true);
    expect(result.tally['web-1']).toBeGreaterThan(0);
    expect(result.tally['web-2']).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/request +1 → web-[12]/);
    // And through the NodePort Service on the node's address.
    const viaNodePort = new Set(result.nodePortAnswers.map((a) => a.answeredBy));
    expect(result.nodePortAnswers.every((a) => a.error === undefined)).toBe(true);
    expect([...viaNodePort].sort()).toEqual(['web-1', 'web-2']);
    expect(run.stdout).toContain('✔ every pod answered through the ClusterIP');
    expect(run.stdout).toContain(
      `kubectl --kubeconfig ${result.kubeconfig} get nodes,pods,svc,endpointslices`,
    );
    expect(result.netns).toMatch(/^na-ctrd-\d+-/);
    expect(result.leftovers).toEqual([]);
    expect(leftBehind(result)).toEqual([]);
  }, 170_000);

  it('on the fake runtime: live status, a second run is refused, Ctrl-C tears everything down', async () => {
    // Interactive run in its own process group, like a terminal's foreground job.
    // Through tools/start.mjs, as `npm start` runs it: its wrapper ignores the SIGINT it shares.
    const child = spawn(process.execPath, demoArgv(['--fake-runtime', '--json'], { startScript: true }), {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    keepTranscript(child);
    try {
      const deadline = Date.now() + 90_000;
      while (!stdout.includes('Live status') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(stdout).toContain('Live status (Ctrl-C tears everything down)');
      expect(stdout).toMatch(/web-1 +Running +yes/);
      expect(stdout).toContain('No packet test with the fake runtime');

      const second = await start(['--once', '--fake-runtime']);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(/another node-in-a-box demo is running \(pid \d+\)/);

      process.kill(-(child.pid as number), 'SIGINT'); // what Ctrl-C sends
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) process.kill(-(child.pid as number), 'SIGKILL');
    }
    const result = summary({ code: 0, stdout, stderr: '' });
    expect(result.runtime).toBe('fake');
    expect(result.dataPathChecked).toBe(false);
    expect(result.expectedPods).toEqual(['web-1', 'web-2']);
    expect(stdout).toContain('SIGINT: tearing down');
    expect(stdout).toContain('✔ nothing left behind');
    expect(leftBehind(result)).toEqual([]);
  }, 150_000);

  it('kubectl exec and logs reach the pods through the API server (the kubelet in the namespace)', async () => {
    const child = spawn(process.execPath, demoArgv([]), {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    keepTranscript(child);
    try {
      const deadline = Date.now() + 120_000;
      while (!stdout.includes('Live status') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 250));
      }
      const kubeconfig = /kubectl --kubeconfig (\S+) get/.exec(stdout)?.[1];
      expect(kubeconfig, stdout).toBeDefined();
      const kubectl = (...args: string[]) =>
        runCommand('kubectl', ['--kubeconfig', kubeconfig as string, ...args]);
      const exec = await kubectl('exec', 'web-1', '--', 'hostname');
      expect(exec.stderr).toBe('');
      expect(exec.stdout).toBe('web-1\n');
      const logs = await kubectl('logs', 'web-2');
      expect(logs.code, logs.stderr).toBe(0);
      process.kill(-(child.pid as number), 'SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) process.kill(-(child.pid as number), 'SIGKILL');
    }
    expect(stdout).toContain('✔ stop API and kubelet relays in the node namespace');
    expect(stdout).toContain('✔ nothing left behind');
  }, 170_000);

  it('after a run killed with SIGKILL, the next run cleans up what it left and starts clean', async () => {
    const child = spawn(process.execPath, demoArgv(['--fake-runtime']), {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    keepTranscript(child);
    let killed: { pid: number; stateDir: string; netns: string } | undefined;
    try {
      const deadline = Date.now() + 90_000;
      while (!stdout.includes('Live status') && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 250));
      }
      const stateDir = /(\/tmp\/nodeagent-demo-(\d+)-[^/\s]+)\/kubeconfig/.exec(stdout);
      const netns = /netns (na-demo-\d+-\w+)/.exec(stdout);
      expect(stateDir, stdout).not.toBeNull();
      expect(netns, stdout).not.toBeNull();
      killed = { pid: Number(stateDir?.[2]), stateDir: stateDir?.[1] ?? '', netns: netns?.[1] ?? '' };
      process.kill(killed.pid, 'SIGKILL'); // the demo process itself: no teardown runs
    } finally {
      if (child.exitCode === null) process.kill(-(child.pid as number), 'SIGKILL');
      await exited;
    }
    // Its agents die with it (pdeathsig), a moment after it (polled; 30 s only guards a hang); its
    // namespace and state dir stay until the next run.
    const stateDir = killed.stateDir;
    for (let waited = 0; processesMentioning(stateDir).length > 0 && waited < 30_000; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(processesMentioning(killed.stateDir)).toEqual([]);
    expect(netnsList()).toContain(killed.netns);
    expect(existsSync(killed.stateDir)).toBe(true);

    const next = await start(['--once', '--json', '--fake-runtime']);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout).toContain(`✔ clean up after an earlier run that did not finish (pid ${killed.pid})`);
    expect(netnsList()).not.toContain(killed.netns);
    expect(existsSync(killed.stateDir)).toBe(false);
    expect(leftBehind(summary(next))).toEqual([]);
  }, 150_000);

  it('starts on a host with swap on (failSwapOn: false) and the kubelet accepts its configuration', async () => {
    // The kubelet refuses to start while /proc/swaps lists a device unless failSwapOn is false.
    // The run sees swap through a private mount namespace with its own /proc/swaps; the host's
    // swap and mounts stay as they are.
    const dir = mkdtempSync(join(tmpdir(), 'na-demo-swap-'));
    const swaps = join(dir, 'swaps');
    writeFileSync(
      swaps,
      'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swapfile                               file\t\t2097148\t\t0\t\t-2\n',
    );
    let result: DemoResult | undefined;
    try {
      const run = await runCommand('unshare', [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount --bind "$1" /proc/swaps && grep -q /swapfile /proc/swaps && shift && exec "$@"',
        'sh',
        swaps,
        process.execPath,
        ...demoArgv(['--once', '--json', '--fake-runtime', '--keep-logs']),
      ]);
      result = summary(run);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(result.ok).toBe(true);
      expect(result.expectedPods).toEqual(['web-1', 'web-2']);
      const kubeletLog = readFileSync(join(result.stateDir, 'logs', 'kubelet.log'), 'utf8');
      expect(kubeletLog).toContain('kubelet started');
      // Neither the swap refusal nor the cgroupsPerQOS/enforceNodeAllocatable pair upstream refuses.
      expect(kubeletLog).not.toContain('failSwapOn');
      expect(kubeletLog).not.toContain('enforceNodeAllocatable');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (result) rmSync(result.stateDir, { recursive: true, force: true });
    }
    expect(leftBehind(result)).toEqual([]);
  }, 150_000);

  it('without root says exactly what is missing and offers --fake-runtime', async () => {
    const run = await start(['--once'], { uid: 65534 });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('root (network namespaces, containerd and netfilter need it; try sudo)');
    expect(run.stderr).toContain('npm start -- --fake-runtime');
    expect(run.stderr).toContain('`node tools/install-deps.mjs` installs the Debian packages');
    expect(run.stdout).not.toContain('containerd in the node network namespace');
  }, 60_000);
});
