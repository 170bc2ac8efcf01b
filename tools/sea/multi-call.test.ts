import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './node-runtime.mjs';
import { sharedMultiCall } from './shared-sea';
import { KUBERNETES_VERSION, seaTargets } from './targets.mjs';

// The multi-call executable (multi-call.mjs), copied alone into a scratch directory with the
// links a node gets, and run from there with a scrubbed environment.
describe('the multi-call executable', { timeout: 180_000 }, () => {
  const runDir = mkdtempSync(join(tmpdir(), `na-sea-multi-call-${process.pid}-`));
  const executable = join(runDir, 'nodeagent');

  beforeAll(async () => {
    copyFileSync((await sharedMultiCall()).path, executable);
    for (const link of ['nodeagent-kubelet', 'nodeagent-kube-proxy', 'kubelet', 'kube-proxy'])
      symlinkSync('nodeagent', join(runDir, link));
  }, 600_000);
  afterAll(() => rmSync(runDir, { recursive: true, force: true }));

  const run = (name: string, args: string[], env: Record<string, string> = {}, input?: string) =>
    spawnSync(join(runDir, name), args, {
      cwd: runDir,
      input,
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: runDir, ...env },
    });

  it('is one file under the 155 MB that both agents may take together', () => {
    expect(statSync(executable).size).toBeLessThan(155_000_000);
  });

  for (const [name, agent] of [
    ['nodeagent-kubelet', 'kubelet'],
    ['kubelet', 'kubelet'],
    ['nodeagent-kube-proxy', 'kube-proxy'],
    ['kube-proxy', 'kube-proxy'],
  ] as const) {
    it(`runs as ${agent} when started as ${name}: upstream's --version, the agent's --help`, () => {
      const version = run(name, ['--version']);
      expect(version.stderr).toBe('');
      expect(version.stdout).toBe(`Kubernetes ${KUBERNETES_VERSION}\n`);
      expect(version.stdout).toBe(
        readFileSync(join(REPO_ROOT, 'fidelity/cli-v1.36', `${agent}.version.upstream.txt`), 'utf8'),
      );
      expect(run(name, ['--version=raw']).stdout.split('\n')[1]).toMatch(
        new RegExp(`^nodeagent-${agent} v\\d+\\.\\d+\\.\\d+ \\(node v24\\.`),
      );
      const help = run(name, ['--help']);
      expect(help.status).toBe(0);
      expect(help.stderr).toBe('');
      expect(help.stdout).toContain(`Usage: nodeagent-${agent}`);
    });
  }

  it('takes the agent as its first argument when started under its own name', () => {
    const help = run('nodeagent', ['kubelet', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: nodeagent-kubelet');
    expect(run('nodeagent', ['kube-proxy', '--version']).stdout).toBe(`Kubernetes ${KUBERNETES_VERSION}\n`);
  });

  it('names both agents and exits 2 when neither its name nor its first argument is one', () => {
    for (const args of [[], ['--help'], ['scheduler']]) {
      const r = run('nodeagent', args);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^nodeagent: runs as kube-proxy or kubelet by the name it is started under/);
    }
  });

  it("compiles each agent from its own code cache, with the young generation cap the agent's unit sets", () => {
    for (const target of seaTargets()) {
      const r = run(target.name, ['--help'], {
        NODEAGENT_SEA_TRACE: '1',
        NODE_OPTIONS: `--max-semi-space-size=${target.maxSemiSpaceSizeMb}`,
      });
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(
        /^nodeagent-sea: app source in the executable \(\d+ bytes\)\nnodeagent-sea: app code cache accepted \(\d+ bytes\)\n$/,
      );
    }
  });

  it('runs kube-proxy with its bundled code and addons: rules rendered from stdin', () => {
    const services = `apiVersion: v1
kind: Service
metadata: { name: mc, namespace: default }
spec: { clusterIP: 10.96.7.8, clusterIPs: [10.96.7.8], ports: [{ port: 80, protocol: TCP, targetPort: 8080 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: mc-1, namespace: default, labels: { kubernetes.io/service-name: mc } }
addressType: IPv4
ports: [{ port: 8080, protocol: TCP }]
endpoints: [{ addresses: [10.244.9.8], conditions: { ready: true } }]
`;
    const r = run('nodeagent-kube-proxy', ['render', '-'], {}, services);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('10.244.9.8:8080');
  });
});
