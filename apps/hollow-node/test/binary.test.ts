import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntry } from '../../../tools/bundle/bundle-entry';
import { until } from './until';

// The real entry point, bundled from the sources (tsx would spend seconds transpiling), with five
// nodes against the in-process API server over HTTPS, stopped with SIGTERM.

const appDir = join(import.meta.dirname, '..');
const { version } = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { version: string };
const bundle = bundleEntry(join(appDir, 'src', 'cli.ts'), { __NODEAGENT_VERSION__: JSON.stringify(version) });
const dir = mkdtempSync(join(tmpdir(), `na-hollow-binary-${process.pid}-`));
const kubeconfig = join(dir, 'kubeconfig');

let api: ApiServer;
let child: ChildProcess | undefined;

beforeAll(async () => {
  api = await startApiServer({ tls: true });
  api.writeKubeconfig(kubeconfig);
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
  bundle.dispose();
});

/** Resolves with the exit code (or signal) when `process` ends. */
function exited(process: ChildProcess): Promise<number | string> {
  return new Promise((resolve) => process.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
}

function readyNodes(): number {
  const nodes = api.registry.list(api.resource('v1', 'nodes'), undefined) as unknown as {
    status?: { conditions?: { type: string; status: string }[] };
  }[];
  return nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .length;
}

describe('nodeagent-hollow-node binary', () => {
  it('runs 5 nodes over 2 worker threads until SIGTERM, then prints the report and exits 0 within 30 s', async () => {
    // The bundle is its own workers' entry: the report below comes from the two workers' counts.
    child = spawn(
      process.execPath,
      [bundle.file, '--kubeconfig', kubeconfig, '--nodes', '5', '--workers', '2'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => (stdout += c));
    child.stderr?.on('data', (c: Buffer) => (stderr += c));
    const exit = exited(child);
    expect(await until(() => readyNodes() === 5, 90_000), stderr).toBe(true);
    const stoppedAt = Date.now();
    child.kill('SIGTERM');
    const code = await Promise.race([exit, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
    expect(code, stderr).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(30_000);
    const report = JSON.parse(stdout) as {
      reason: string;
      nodes: number;
      requests: { byNode: Record<string, { total: number; byKind: Record<string, number> }> };
      watches: { open: number };
    };
    expect(report.reason).toBe('SIGTERM');
    expect(report.nodes).toBe(5);
    expect(stderr).toContain('"msg":"hollow nodes started","nodes":5,"workers":2');
    expect(Object.keys(report.requests.byNode).sort()).toEqual(
      [0, 1, 2, 3, 4].map((i) => `hollow-node-${i}`),
    );
    for (const node of Object.values(report.requests.byNode))
      expect(node.byKind['POST nodes']).toBeGreaterThanOrEqual(1);
  }, 150_000);

  it('--report-after: prints the report and exits 0 by itself; --restart-every ran waves meanwhile', async () => {
    const timed = spawn(process.execPath, [
      bundle.file,
      '--kubeconfig',
      kubeconfig,
      '--name-prefix',
      'timed-',
      '--report-after',
      '10s',
      '--restart-every',
      '1s',
    ]);
    let stdout = '';
    timed.stdout?.on('data', (c: Buffer) => (stdout += c));
    expect(await exited(timed)).toBe(0);
    const report = JSON.parse(stdout) as {
      reason: string;
      nodes: number;
      requests: { byNode: Record<string, unknown> };
      restartWaves: { nodes: string[] }[];
      apiServer: Record<string, unknown>;
    };
    expect(report.reason).toBe('report-after');
    expect(report.nodes).toBe(1);
    expect(Object.keys(report.requests.byNode)).toEqual(['timed-0']);
    // One node: every wave restarts it (10%, at least one node).
    expect(report.restartWaves.length).toBeGreaterThanOrEqual(1);
    expect(report.restartWaves[0]?.nodes).toEqual(['timed-0']);
    // The in-process API server has no /metrics: the report says so instead of a figure.
    expect(report.apiServer).toEqual({
      source: '/metrics',
      error: expect.stringContaining('GET /metrics: 404'),
    });
  }, 60_000);

  it('refuses a bad flag with one line naming it and its value, exit 1', async () => {
    const refused = spawn(process.execPath, [bundle.file, '--kubeconfig', kubeconfig, '--morph', 'kubemark']);
    let stderr = '';
    refused.stderr?.on('data', (c: Buffer) => (stderr += c));
    expect(await exited(refused)).toBe(1);
    expect(stderr).toBe(
      'nodeagent-hollow-node: invalid value "kubemark" for flag --morph: must be kubelet, proxy or both\n',
    );
  });
});
