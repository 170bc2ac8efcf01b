import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKubeProxyConfiguration } from '@nodeagent/kube-proxy';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSettings, daemonLogger } from '../src/daemon-settings';
import { buildProgram } from '../src/index';
import { applyPlatformDefaults } from '../src/resolve-configuration';

// featureGates (file) and --feature-gates (flag) against the v1.36 gate table (issue #49): an
// unknown or locked gate refuses the start in one line with upstream's reason; a GA or
// deprecated gate set gets upstream's warning; a gate set away from its default is named in a
// warning (this proxy reads none).

const dir = mkdtempSync(join(tmpdir(), `na-kp-feature-gates-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const lockedFile = join(dir, 'locked.yaml');
writeFileSync(
  lockedFile,
  'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nfeatureGates:\n  NFTablesProxyMode: false\n',
);

/** The program's exit code and stderr for `args` (it stops at the configuration). */
async function run(args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const program = buildProgram({ stdout: () => {}, stderr: (t) => (err += t) });
  let code: number | undefined;
  try {
    await program.parseAsync(['node', 'kube-proxy', ...args]);
  } catch (e) {
    code = (e as { exitCode?: number }).exitCode ?? 1;
  }
  return { code: code ?? program.exitCode ?? 0, err };
}

describe('refused at start, one line', () => {
  it.each([
    [
      ['--feature-gates=Bogus=true'],
      'invalid configuration: featureGates: invalid value {"Bogus":true}: unrecognized feature gate: Bogus',
    ],
    [
      ['--feature-gates=EventedPLEG=true,Bogus=false'],
      'invalid configuration: featureGates: invalid value {"EventedPLEG":true,"Bogus":false}: unrecognized feature gate: Bogus',
    ],
    [
      ['--config', lockedFile],
      'invalid configuration: featureGates: invalid value {"NFTablesProxyMode":false}: cannot set feature gate NFTablesProxyMode to false, feature is locked to true',
    ],
  ])('%j', async (args, line) => {
    const r = await run(args);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`${line}\n`);
  });
});

describe('start-up warnings', () => {
  const warningsFor = (featureGates: Record<string, boolean>) => {
    const lines: string[] = [];
    const config = applyPlatformDefaults(parseKubeProxyConfiguration({ featureGates }));
    const problems = checkSettings(
      config,
      daemonLogger(config, (l) => lines.push(l)),
    );
    return {
      problems: problems.filter((p) => p.field === 'featureGates').map((p) => [p.value, p.reason]),
      lines: lines.filter((l) => l.includes('featureGates')),
    };
  };
  const GA = 'Warning: setting GA feature gate. It will be removed in a future release.';
  const NO_EFFECT =
    'these gates have no effect: this proxy does not implement them and behaves as Kubernetes v1.36 does with their defaults';

  it.each([
    [{ NFTablesProxyMode: true }, [[{ NFTablesProxyMode: true }, GA]]],
    [
      { WindowsHostNetwork: false },
      [
        [
          { WindowsHostNetwork: false },
          'Warning: setting deprecated feature gate. It will be removed in a future release.',
        ],
      ],
    ],
    [{ EventedPLEG: true, ContainerCheckpoint: true }, [[{ EventedPLEG: true }, NO_EFFECT]]],
    [
      { WinDSR: true, PreferSameTrafficDistribution: true },
      [
        [{ WinDSR: true }, GA],
        [{ PreferSameTrafficDistribution: true }, GA],
      ],
    ],
    [{}, []],
  ])('%j', (gates, expected) => {
    const { problems, lines } = warningsFor(gates);
    expect(problems).toEqual(expected);
    expect(lines).toHaveLength(expected.length);
    expect(lines.every((l) => l.startsWith('W'))).toBe(true);
  });
});
