/**
 * The start-up bench's floor (issue #51): what any kubelet on the executable's runtime spends in
 * its first 10 s before doing a kubelet's work. The embedded Node 24 binary (the one the single
 * executable is built from, tools/sea/node-runtime.mjs), started with deploy/systemd's
 * MALLOC_ARENA_MAX=1, makes the self-signed serving pair's two RSA-2048 keys as the kubelet does
 * (on libuv's pool; upstream's kubelet makes the same two) and then idles until it is killed.
 *
 * Run in the same bench as the kubelet's starts, interleaved with them, it turns the bench's CPU
 * into a ratio that survives a change of machine: one commit measured 0.48 CPU-s on one day and
 * 0.88 on another, so absolute figures from different days (and upstream's 0.4 from a kubeadm run
 * on another machine) do not compare.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { processMemory } from '@nodeagent/testing';

const { cpuSeconds, sleep } = processMemory;

/** One floor start: CPU seconds at the keys and at the window's end, and the load it began at. */
export interface FloorRun {
  /** From exec until both keys exist (ms). */
  keysMs: number;
  cpuAtKeysS: number;
  cpuFirst10sS: number;
  load1: number;
}

// Both keys at once, as the kubelet's self-signed pair asks for them; a line when both exist; then
// an idle event loop, like a started kubelet between its periodic tasks.
const SCRIPT = `
const { generateKeyPair } = require('node:crypto');
const key = () => new Promise((resolve, reject) =>
  generateKeyPair('rsa', { modulusLength: 2048 }, (err) => (err ? reject(err) : resolve())));
Promise.all([key(), key()]).then(() => process.stderr.write('keys\\n'));
setInterval(() => {}, 1 << 30);
`;

type NodeRuntime = { ensureNode24(): { node: string } };

/** The embedded runtime's node binary (installed into the build's cache when missing). */
export async function floorNode(repoRoot: string): Promise<string> {
  const runtime = (await import(join(repoRoot, 'tools/sea/node-runtime.mjs'))) as NodeRuntime;
  return runtime.ensureNode24().node;
}

/** One floor start, read like a kubelet's run: CPU seconds at 10 s from exec, then killed. */
export async function floorRun(node: string, windowMs: number, load1: number): Promise<FloorRun> {
  const t0 = performance.now();
  const child = spawn(node, ['-e', SCRIPT], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MALLOC_ARENA_MAX: '1' },
  });
  const pid = child.pid as number;
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`the floor's node exited early (code ${code})`))),
  );
  exited.catch(() => undefined); // its kill below ends it too; only the race reads the rejection
  try {
    const keysMs = await Promise.race([
      new Promise<number>((resolve) => child.stderr?.once('data', () => resolve(performance.now() - t0))),
      exited,
    ]);
    const cpuAtKeysS = await cpuSeconds(pid);
    await sleep(Math.max(0, windowMs - (performance.now() - t0)));
    const cpuFirst10sS = await cpuSeconds(pid);
    return { keysMs: Math.round(keysMs), cpuAtKeysS, cpuFirst10sS, load1 };
  } finally {
    child.kill('SIGKILL');
  }
}
