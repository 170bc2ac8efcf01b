// What the end-to-end tests share: `npm start -- <args>` run as a child, its JSON summary, and
// what a run could leave behind on the host.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { AGENT_BUNDLES_ENV, writeAgentBundles } from '../../src/agent-bundles';
import type { DemoResult } from '../../src/demo';

export const root = fileURLToPath(new URL('../../../../', import.meta.url));

// The runs these tests start (and the runs they start in turn) take their own lock: a demo someone
// else is running on this machine must not make them exit 2. The suites run one after another
// in one test file (end-to-end.test.ts), so the tests never race each other for it.
process.env.NODEAGENT_DEMO_LOCK ??= join(tmpdir(), 'nodeagent-demo-test.lock');

/**
 * Bundles the agents once for every run of the file (NODEAGENT_DEMO_AGENT_BUNDLES, which the runs
 * inherit): each run would otherwise bundle the kubelet and kube-proxy again, 3–12 s of both
 * cores. A run started with `ownBundles` still bundles its own, as `npm start` does.
 */
export function shareAgentBundles(): void {
  let dir: string | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'na-demo-bundles-'));
    writeAgentBundles(dir);
    process.env[AGENT_BUNDLES_ENV] = dir;
  }, 120_000);
  afterAll(() => {
    delete process.env[AGENT_BUNDLES_ENV];
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm start -- <args>` without npm: the same tools/start.mjs, non-interactive. */
export function start(args: string[], options: { uid?: number; ownBundles?: boolean } = {}): Promise<Run> {
  const [command, argv] =
    options.uid === undefined
      ? [process.execPath, ['tools/start.mjs', ...args]]
      : [
          'setpriv',
          [
            `--reuid=${options.uid}`,
            `--regid=${options.uid}`,
            '--clear-groups',
            process.execPath,
            'tools/start.mjs',
            ...args,
          ],
        ];
  const env = { ...process.env };
  if (options.ownBundles) delete env[AGENT_BUNDLES_ENV];
  return runCommand(command, argv, env);
}

export function runCommand(command: string, argv: string[], env = process.env): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export function summary(run: Run): DemoResult {
  const last = run.stdout.trimEnd().split('\n').at(-1) ?? '';
  return JSON.parse(last) as DemoResult;
}

/** Processes whose command line mentions `needle` (agents carry the state dir in their flags). */
export function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(needle)) found.push(`${pid}: ${cmdline}`);
    } catch {}
  }
  return found;
}

export function netnsList(): string {
  return spawnSync('ip', ['netns', 'list']).stdout.toString();
}

/** Directories, processes, mounts and namespaces (every node's, the fabric's) a run left behind. */
export function leftBehind(result: DemoResult): string[] {
  const paths = [
    ...new Set([result.stateDir, result.runtimeDir, ...(result.nodes ?? []).map((n) => n.runtimeDir)]),
  ].filter((p): p is string => p !== undefined);
  const namespaces = [
    ...new Set([result.netns, result.fabricNetns, ...(result.nodes ?? []).map((n) => n.netns)]),
  ].filter((n): n is string => n !== undefined);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  const listed = netnsList();
  return [
    ...paths.filter((p) => existsSync(p)).map((p) => `dir ${p}`),
    ...paths.flatMap(processesMentioning),
    ...paths.filter((p) => mounts.includes(p)).map((p) => `mount under ${p}`),
    ...namespaces.filter((n) => listed.includes(n)).map((n) => `netns ${n}`),
  ];
}
