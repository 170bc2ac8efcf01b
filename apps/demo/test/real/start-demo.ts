// What the end-to-end tests share: `npm start -- <args>` run as a child, its JSON summary, and
// what a run could leave behind on the host.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { bundleEntry } from '../../../../tools/bundle/bundle-entry';
import { writeAgentBundles } from '../../src/agent-bundles';
import { AGENT_BUNDLES_ENV } from '../../src/agent-bundles-dir';
import type { DemoResult } from '../../src/demo';

export const root = fileURLToPath(new URL('../../../../', import.meta.url));

// The runs these tests start (and the runs they start in turn) take their own lock: a demo someone
// else is running on this machine must not make them exit 2. The suites run one after another
// in one test file (end-to-end.test.ts), so the tests never race each other for it.
process.env.NODEAGENT_DEMO_LOCK ??= join(tmpdir(), 'nodeagent-demo-test.lock');

/** The demo itself bundled (demo.mjs in the bundles directory): see shareAgentBundles. */
const DEMO_BUNDLE = 'demo.mjs';

/**
 * Bundles the agents, tools/containerd and the demo itself once for every run of the file
 * (NODEAGENT_DEMO_AGENT_BUNDLES, which the runs inherit): each run would otherwise bundle the
 * kubelet and kube-proxy again, 3–12 s of both cores, and load the demo's sources through tsx,
 * about 4.5 CPU-s before it runs a line (0.5 s bundled). A run started with `ownBundles` runs
 * tools/start.mjs and bundles its agents itself, as `npm start` does.
 */
export function shareAgentBundles(): void {
  let dir: string | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'na-demo-bundles-'));
    // Readable by the run started as nobody (the test without root).
    chmodSync(dir, 0o755);
    writeAgentBundles(dir);
    // The demo's sources find the manifests (and the agents' sources) relative to their own
    // location: the bundle's import.meta.url is main.ts's. It runs only with the agents' bundles
    // beside it (it cannot bundle them itself: tools/bundle's location would be wrong too).
    const demo = bundleEntry(demoMain, { 'import.meta.url': JSON.stringify(pathToFileURL(demoMain).href) });
    copyFileSync(demo.file, join(dir, DEMO_BUNDLE));
    demo.dispose();
    process.env[AGENT_BUNDLES_ENV] = dir;
  }, 120_000);
  afterAll(() => {
    delete process.env[AGENT_BUNDLES_ENV];
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}

const demoMain = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/**
 * The command line of `npm start -- <args>`: the shared bundle of the demo when there is one
 * (shareAgentBundles), else tools/start.mjs (the demo's sources through tsx).
 */
export function demoArgv(args: readonly string[], options: { startScript?: boolean } = {}): string[] {
  const dir = process.env[AGENT_BUNDLES_ENV];
  const bundled = dir && !options.startScript ? join(dir, DEMO_BUNDLE) : undefined;
  return [bundled ?? 'tools/start.mjs', ...args];
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `npm start -- <args>` without npm, non-interactive: the shared demo bundle, or with
 * `ownBundles` the same tools/start.mjs (demoArgv).
 */
export function start(args: string[], options: { uid?: number; ownBundles?: boolean } = {}): Promise<Run> {
  const demo = demoArgv(args, { startScript: options.ownBundles });
  const [command, argv] =
    options.uid === undefined
      ? [process.execPath, demo]
      : [
          'setpriv',
          [`--reuid=${options.uid}`, `--regid=${options.uid}`, '--clear-groups', process.execPath, ...demo],
        ];
  const env = { ...process.env };
  if (options.ownBundles) delete env[AGENT_BUNDLES_ENV];
  return runCommand(command, argv, env);
}

/**
 * With NODEAGENT_DEMO_TRANSCRIPTS naming a directory, each child's output goes there too (one
 * file per run, numbered), each line with the seconds since the start: with the step lines' own
 * seconds, that is where the file's time goes.
 */
let transcripts = 0;
export function keepTranscript(child: ChildProcess): void {
  const dir = process.env.NODEAGENT_DEMO_TRANSCRIPTS;
  if (!dir) return;
  const startedAt = Date.now();
  const since = () => `+${((Date.now() - startedAt) / 1000).toFixed(1)}s`.padStart(7);
  let text = `${child.spawnargs.join(' ')}\n`;
  child.stdout?.on('data', (d: Buffer) => {
    text += d
      .toString()
      .split(/(?<=\n)/)
      .map((line) => `${since()} ${line}`)
      .join('');
  });
  child.on('exit', (code) => {
    transcripts++;
    const file = join(dir, `${String(transcripts).padStart(2, '0')}.log`);
    writeFileSync(file, `${text}${since()} exit ${code}\n`);
  });
}

export function runCommand(command: string, argv: string[], env = process.env): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    keepTranscript(child);
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
