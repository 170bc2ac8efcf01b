import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveKubeletOptions } from '../src/kubelet-flags';
import { fakeNodeFlags, NO_HOST_IPTABLES } from './binary-harness';

/**
 * makeIPTablesUtilChains defaults to true, as upstream: a kubelet started as root on the host's
 * network writes KUBE-FIREWALL, its jumps from INPUT and OUTPUT and the canary chains into the
 * host's iptables. Every file in the repository that starts the kubelet executable must carry the
 * opt-out (the flag, the configuration line, or a helper that adds one) or be listed below with
 * the reason it need not, so a new start fails here until it is looked at.
 */
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Start the executable elsewhere than the host's network, or only for --version / --help. */
const ELSEWHERE: Record<string, string> = {
  'apps/kubelet/src/version.test.ts': '--version only',
  'apps/kubelet/bench/cpu.bench.ts': 'through kubelet-process.ts',
  'apps/kubelet/bench/rss.bench.ts': 'through kubelet-process.ts',
  'apps/kubelet/bench/csi.bench.ts': 'through kubelet-process.ts',
  'apps/hollow-node/bench/real-node.ts': "inside the bench's own network namespace (ns.spawn)",
  'packages/kubelet/test/real/vm/guest-kubelet.ts': 'inside a micro-VM guest',
  'packages/kubelet/test/real/vm/kernel-tunables-scenario.ts': 'inside a micro-VM guest',
  'packages/kubelet/test/real/vm/reserved-cgroups-scenario.ts': 'inside a micro-VM guest',
  'packages/kubelet/test/real/vm/system-cgroups-scenario.ts': 'inside a micro-VM guest',
  'apps/demo/src/demo.ts': 'through node-agents.ts',
  'apps/hollow-node/bench/scale.bench.ts': 'the hollow-node CLI; its real node through real-node.ts',
  'tools/bench.mjs': 'runs the bench scripts, which start it through the files above',
  'tools/sea/sea-binaries.test.ts': '--version, --help and a bad flag only',
  'tools/soak/soak.bench.ts': 'through kubelet-process.ts',
  'tools/soak/unit-start.ts': "reads the agents' units; runs only `ulimit -Hn`",
  'tools/sea/multi-call.test.ts': "--version, --help and kube-proxy's render only",
  'tools/sea/lazy-proxy-agents.test.ts':
    "runs a bundle of client-node alone; only reads the kubelet bundle's inputs",
};

/**
 * What a file that starts the kubelet executable names: the binary harness, the fake node's
 * starter, the bundle, the SEA binary, the CLI, the benches' starter, a kubelet command line or
 * configuration.
 */
const KUBELET_EXECUTABLE =
  /binary-harness'|fake-node-kubelet'|bundleAppCli\('kubelet'\)|nodeagent-kubelet|apps\/kubelet\/src\/cli\.ts|kubelet-process'|container-runtime-endpoint|kind: KubeletConfiguration/;
const STARTS_A_PROCESS =
  /\b(spawn|spawnSync|execFile|execFileSync|runChild)\(|startChild\(|startKubelet\(|runKubeletUntil\(/;
/**
 * The opt-out: the flag, the configuration line, or the functions that add them (fakeNodeFlags,
 * demoKubeletConfiguration, and fakeNodeKubelet and fakeNodeConfigArgv, whose every start passes
 * fakeNodeFlags).
 */
const OPT_OUT =
  /NO_HOST_IPTABLES|--make-iptables-util-chains=false|makeIPTablesUtilChains: false|fakeNodeFlags\(|fakeNodeKubelet\(|fakeNodeConfigArgv\(|demoKubeletConfiguration\(/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    if (['node_modules', 'dist', 'out-tsc', 'fixtures'].includes(entry) || entry.startsWith('.')) return [];
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs)$/.test(entry) && !entry.endsWith('.d.ts') ? [path] : [];
  });
}

describe('kubelet starts leave the host iptables alone', () => {
  const starters = ['apps', 'packages', 'tools']
    .flatMap((top) => sourceFiles(join(repoRoot, top)))
    .filter((path) => {
      const text = readFileSync(path, 'utf8');
      return KUBELET_EXECUTABLE.test(text) && STARTS_A_PROCESS.test(text);
    })
    .map((path) => relative(repoRoot, path))
    .filter((path) => path !== 'apps/kubelet/test/host-iptables-opt-out.test.ts');

  it('finds the starts it knows of (the search is not stale)', () => {
    expect(starters).toEqual(
      expect.arrayContaining([
        'apps/kubelet/test/binary.test.ts',
        'apps/kubelet/test/start-up-errors.test.ts',
        'apps/kubelet/test/fake-node-kubelet.ts',
        'apps/kubelet/test/binary-events.test.ts',
        'apps/kubelet/test/device-plugin-binary.test.ts',
        'apps/kubelet/test/dra-binary.test.ts',
        'apps/kubelet/test/cpu-manager-binary.test.ts',
        'apps/kubelet/bench/kubelet-process.ts',
        'apps/demo/src/node-agents.ts',
        'tools/sea/code-cache-training.ts',
        ...Object.keys(ELSEWHERE),
      ]),
    );
  });

  it('every start on the host network opts out', () => {
    const missing = starters.filter(
      (path) => !(path in ELSEWHERE) && !OPT_OUT.test(readFileSync(join(repoRoot, path), 'utf8')),
    );
    expect(missing).toEqual([]);
  });

  it("the fake node's starter, an opt-out by name, passes fakeNodeFlags itself", () => {
    const starter = readFileSync(join(repoRoot, 'apps/kubelet/test/fake-node-kubelet.ts'), 'utf8');
    expect(starter).toMatch(/\.\.\.fakeNodeFlags\(/);
  });

  it('the flag the helpers pass turns the chains off in the configuration the binary runs with', async () => {
    const argv = fakeNodeFlags({
      nodeName: 'n',
      rootDir: '/nonexistent',
      endpoint: 'unix:///x.sock',
      port: 10250,
    });
    expect(argv).toContain(NO_HOST_IPTABLES);
    expect((await resolveKubeletOptions(argv)).config.makeIPTablesUtilChains).toBe(false);
    expect((await resolveKubeletOptions([])).config.makeIPTablesUtilChains).toBe(true);
  });
});
