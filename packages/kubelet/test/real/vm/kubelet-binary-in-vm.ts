/**
 * The host side of the micro-VM scenarios that start the nodeagent-kubelet binary inside the
 * guest (kernel-tunables, reserved-cgroups, system-cgroups): the binary and the scenario bundled
 * (with a V8 code cache: compiling the bundles is most of a Node start under TCG), the scenario run
 * in the throwaway guest with the binary's path as its argument, and its `SCENARIO-RESULT` line.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleEntry } from '../../../../../tools/bundle/bundle-entry';
import { runInVm } from '../../../../../tools/vm/vm';

const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));

/** Runs `scenario` (a module URL) in the micro-VM; returns the JSON of its result line. */
export async function runKubeletScenario(scenario: URL): Promise<unknown> {
  const { version } = JSON.parse(readFileSync(`${repoRoot}apps/kubelet/package.json`, 'utf8')) as {
    version: string;
  };
  const disposers: (() => void)[] = [];
  try {
    const kubelet = bundleEntry(
      `${repoRoot}apps/kubelet/src/cli.ts`,
      { __NODEAGENT_VERSION__: JSON.stringify(version) },
      { codeCache: true },
    );
    disposers.push(kubelet.dispose);
    const bundled = bundleEntry(fileURLToPath(scenario), {}, { codeCache: true });
    disposers.push(bundled.dispose);
    const result = await runInVm({
      command: 'node',
      args: [bundled.file, kubelet.file],
      cwd: repoRoot,
      timeoutMs: 300_000,
    });
    if (result.exitCode !== 0)
      throw new Error(`scenario failed (${result.exitCode}):\n${result.stderr}\n${result.stdout}`);
    const line = result.stdout.split('\n').find((l) => l.startsWith('SCENARIO-RESULT '));
    if (!line) throw new Error(`no result line in:\n${result.stdout}`);
    return JSON.parse(line.slice('SCENARIO-RESULT '.length));
  } finally {
    for (const dispose of disposers) dispose();
  }
}
