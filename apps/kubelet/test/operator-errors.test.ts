import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectCgroupFilesystem } from '@nodeagent/kubelet/cgroups';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareKubelet } from '../src/kubelet-command';
import { cli, NO_HOST_IPTABLES, node } from './binary-harness';

// An operator's first mistakes (issue #29): each answered with one line per problem naming the
// flag or field and the value, exit code 1 as upstream's cli.Run, no stack trace below -v=4.

const header = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-operator-errors-${process.pid}-`));
  await mkdir(join(dir, 'a-dir'));
  await writeFile(
    join(dir, 'phases.yaml'),
    `${header}maxPods: -5\nimageGCHighThresholdPercent: 60\nimageGCLowThresholdPercent: 70\nnodeStatusUpdateFrequency: -10s\n`,
  );
  await writeFile(join(dir, 'broken.yaml'), `${header}maxPods: [1\ntoken: s3cr3t-value\n`);
  await writeFile(join(dir, 'no-qos.yaml'), `${header}cgroupsPerQOS: false\n`);
  await writeFile(
    join(dir, 'ok.yaml'),
    `${header}failSwapOn: false\nfailCgroupV1: false\ncgroupsPerQOS: false\nenforceNodeAllocatable: []\n`,
  );
  // failCgroupV1 left at its default (true since upstream v1.35).
  await writeFile(
    join(dir, 'cgroup-default.yaml'),
    `${header}failSwapOn: false\ncgroupsPerQOS: false\nenforceNodeAllocatable: []\n`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Case {
  name: string;
  argv: (dir: string) => string[];
  /** stderr's lines, exactly (strings) or by pattern. */
  stderr: (string | RegExp)[];
}

const cases: Case[] = [
  {
    name: 'an unknown flag',
    argv: () => ['--no-such-flag'],
    stderr: ['Error: unknown flag: --no-such-flag'],
  },
  {
    name: 'an integer flag given a word',
    argv: () => ['--max-pods=many'],
    stderr: ['Error: --max-pods: must be an integer (got "many")'],
  },
  {
    name: 'a node IP that is not an address',
    argv: () => ['--node-ip', 'banana'],
    stderr: ['Error: --node-ip: not an IP address (got "banana")'],
  },
  {
    name: 'a second node IP of the same family',
    argv: () => ['--node-ip=10.0.0.1,10.0.0.2'],
    stderr: [
      'Error: --node-ip: must contain either a single IP or a dual-stack pair of IPs (got "10.0.0.1,10.0.0.2")',
    ],
  },
  {
    name: 'an address flag given a bad IP',
    argv: () => ['--address=300.1.1.1'],
    stderr: ['Error: --address: not a valid IP address (got "300.1.1.1")'],
  },
  {
    name: 'a duration without a unit',
    argv: () => ['--sync-frequency=10'],
    stderr: ['Error: --sync-frequency: not a duration (e.g. "300ms", "10s", "2h45m") (got "10")'],
  },
  {
    name: 'a quantity that is not one',
    argv: () => ['--log-text-info-buffer-size=lots'],
    stderr: ['Error: --log-text-info-buffer-size: not a quantity (e.g. "64Ki", "1M") (got "lots")'],
  },
  {
    name: 'an enum value the configuration refuses, named by its flag',
    argv: () => ['--logging-format=xml'],
    stderr: [/^Error: --logging-format: .*\(got "xml"\)$/],
  },
  {
    name: 'several bad flags at once',
    argv: () => ['--max-pods=x', '--port=y', '--bogus'],
    stderr: [
      'Error: unknown flag: --bogus',
      'Error: --max-pods: must be an integer (got "x")',
      'Error: --port: must be an integer (got "y")',
    ],
  },
  {
    name: 'a bool flag followed by a word',
    argv: () => ['--fail-swap-on', 'false'],
    stderr: [/^Error: unknown command "false": the kubelet takes flags only/],
  },
  {
    name: 'a flag without its value',
    argv: () => ['--root-dir'],
    stderr: ['Error: flag needs an argument: --root-dir'],
  },
  {
    name: 'a missing --config file',
    argv: (d) => ['--config', join(d, 'nope.yaml')],
    stderr: [/^Error: --config: cannot read \/.*\/nope\.yaml: no such file or directory; .*omit --config/],
  },
  {
    name: '--config naming a directory',
    argv: (d) => [`--config=${join(d, 'a-dir')}`],
    stderr: [/^Error: --config: cannot read \/.*\/a-dir: is a directory; /],
  },
  {
    name: 'a missing --config-dir',
    argv: (d) => [`--config-dir=${join(d, 'nope.d')}`],
    stderr: [/^Error: --config-dir: cannot read \/.*\/nope\.d: no such file or directory; /],
  },
  {
    name: 'a file with problems of every kind, all at once and each once',
    argv: (d) => ['--config', join(d, 'phases.yaml')],
    stderr: [
      'Error: invalid configuration: nodeStatusUpdateFrequency: must be greater than 0 (got "-10s")',
      'Error: invalid configuration: maxPods: must not be a negative number (got -5)',
      'Error: invalid configuration: imageGCLowThresholdPercent: must be less than imageGCHighThresholdPercent (60) (got 70)',
    ],
  },
  {
    name: 'a YAML syntax error: where it is, not the file',
    argv: (d) => ['--config', join(d, 'broken.yaml')],
    stderr: [
      /^Error: invalid configuration: \/.*\/broken\.yaml: not valid YAML or JSON at line \d+, column \d+: [^\n]+$/,
    ],
  },
  {
    name: 'enforceNodeAllocatable pods without cgroupsPerQOS (upstream refuses it)',
    argv: (d) => ['--config', join(d, 'no-qos.yaml')],
    stderr: [
      /^Error: invalid configuration: enforceNodeAllocatable: is not supported unless cgroupsPerQOS \(--cgroups-per-qos\) is set to true/,
    ],
  },
  {
    name: '--bootstrap-kubeconfig without --kubeconfig',
    argv: () => ['--bootstrap-kubeconfig=/etc/kubernetes/bootstrap.conf'],
    stderr: [/^Error: --bootstrap-kubeconfig: needs --kubeconfig/],
  },
];

function expectLines(actual: string, expected: (string | RegExp)[]): void {
  const lines = actual.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(expected.length);
  expected.forEach((want, i) => {
    if (typeof want === 'string') expect(lines[i]).toBe(want);
    else expect(lines[i]).toMatch(want);
  });
  // No stack trace, and nothing of a file's contents.
  expect(actual).not.toMatch(/^\s+at /m);
  expect(actual).not.toContain('s3cr3t-value');
}

describe('operator errors, in process', () => {
  for (const c of cases) {
    it(c.name, async () => {
      let stderr = '';
      let stdout = '';
      const command = await prepareKubelet(c.argv(dir), {
        stdout: (text) => {
          stdout += text;
        },
        stderr: (text) => {
          stderr += text;
        },
      });
      expect(command).toEqual({ exitCode: 1 });
      expect(stdout).toBe('');
      expectLines(stderr, c.stderr);
    });
  }

  it('shows the stack trace at -v=4 and above', async () => {
    let stderr = '';
    const command = await prepareKubelet(['-v=4', '--config', join(dir, 'nope.yaml')], {
      stdout: () => {},
      stderr: (text) => {
        stderr += text;
      },
    });
    expect(command).toEqual({ exitCode: 1 });
    expect(stderr).toMatch(/^Error: --config: cannot read /);
    expect(stderr).toMatch(/^\s+at /m);
  });

  it('--help and --version exit 0 on stdout', async () => {
    for (const [argv, pattern] of [
      [['--help'], /^ {6}--kubeconfig string /m],
      [['-h'], /^ {2}-v, --v Level /m],
      [['--version'], /^Kubernetes v1\.36\.\d+\n$/],
    ] as const) {
      let stdout = '';
      const command = await prepareKubelet(argv, {
        stdout: (text) => {
          stdout += text;
        },
        stderr: () => {},
      });
      expect(command).toEqual({ exitCode: 0 });
      expect(stdout).toMatch(pattern);
    }
  });
});

describe('operator errors, from the binary', { timeout: 120_000 }, () => {
  /** Runs the kubelet binary from source; resolves with its exit code and stderr. */
  function run(argv: string[]): Promise<{ code: number | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(node, [cli, NO_HOST_IPTABLES, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      child.on('exit', (code) => resolve({ code, stderr }));
    });
  }

  it('prints each problem once and exits 1, for flags, files and the kubeconfig', async () => {
    const [unknown, config, kubeconfig] = await Promise.all([
      run(['--no-such-flag']),
      run(['--config', join(dir, 'nope.yaml')]),
      run([
        '--config',
        join(dir, 'ok.yaml'),
        '--kubeconfig',
        join(dir, 'nope.kubeconfig'),
        `--root-dir=${join(dir, 'root')}`,
        `--cert-dir=${join(dir, 'pki')}`,
        `--container-runtime-endpoint=unix://${join(dir, 'none.sock')}`,
      ]),
    ]);
    expect(unknown.code).toBe(1);
    expectLines(unknown.stderr, ['Error: unknown flag: --no-such-flag']);
    expect(config.code).toBe(1);
    expectLines(config.stderr, [
      /^Error: --config: cannot read \/.*\/nope\.yaml: no such file or directory; /,
    ]);
    expect(kubeconfig.code).toBe(1);
    const last = kubeconfig.stderr.trimEnd().split('\n').at(-1)!;
    expect(last).toMatch(/^Error: .*kubeconfig.*nope\.kubeconfig: no such file or directory/);
    expect(kubeconfig.stderr).not.toMatch(/^\s+at /m);
  });

  it('refuses a cgroup v1 host with failCgroupV1 at its default, as upstream v1.35+; runs past it on v2', async () => {
    const hostVersion = (await detectCgroupFilesystem()).version;
    const started = await run([
      '--config',
      join(dir, 'cgroup-default.yaml'),
      '--kubeconfig',
      join(dir, 'nope.kubeconfig'),
      `--root-dir=${join(dir, 'root')}`,
      `--cert-dir=${join(dir, 'pki')}`,
      `--container-runtime-endpoint=unix://${join(dir, 'none.sock')}`,
    ]);
    expect(started.code).toBe(1);
    const refusal =
      'Error: failed to validate kubelet configuration, error: kubelet is configured to not run on a host using cgroup v1. cgroup v1 support is unsupported and will be removed in a future release, path: &TypeMeta{Kind:,APIVersion:,}';
    const last = started.stderr.trimEnd().split('\n').at(-1);
    // On a v2 host the check passes and the missing kubeconfig is what stops it.
    if (hostVersion === 1) expect(last).toBe(refusal);
    else expect(last).toMatch(/^Error: .*kubeconfig.*nope\.kubeconfig: no such file or directory/);
  });
});
